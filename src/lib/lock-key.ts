/**
 * A number naming a lock (`db.exclusive`'s key; PostgreSQL: an advisory lock's) for `name`: the
 * 32-bit FNV-1a hash of its UTF-8 bytes, so below 2^32, apart from keys chosen by hand above it
 * (the migration lock). Two names may share a key: their holders then wait for each other, which
 * costs time, never correctness.
 */
export function lockKey(name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(name)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
