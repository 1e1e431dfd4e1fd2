-- Every `/platform new-namespace` reads the requester's latest request to prefill the form
-- (`lastRequestBy`: WHERE requester = ? ORDER BY id DESC LIMIT 1). With (requester, created_at)
-- SQLite sorted that person's requests in a temporary b-tree on each command; this index serves
-- the latest one directly.
CREATE INDEX requests_requester_latest ON requests (requester, id);
