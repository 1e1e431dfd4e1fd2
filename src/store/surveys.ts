import type { Db } from './db.ts';
import { compose, type Public } from './compose.ts';
import { FeedbackStore } from './surveys/feedback.ts';
import { subkeys } from './surveys/key.ts';
import { MuteStore } from './surveys/mutes.ts';
import { PostProvisioningStore } from './surveys/post-provisioning.ts';
import { PulseStore } from './surveys/pulses.ts';

/**
 * The SQL behind surveys (db/0004_surveys.sql), reached through `store.surveys`: one face over a
 * store per concern in src/store/surveys/ (pulses, the question after provisioning, feedback,
 * mutes). Statements are prepared once; times are ISO strings, so string order is time order.
 *
 * Anonymity lives there. Pulse answers are stored under pseudonyms that stop meaning anything
 * when the pulse closes (pulses.ts); the author of a feedback item is sealed with the survey key,
 * kept outside the database (feedback.ts, key.ts).
 */
export type SurveyStore = Public<PulseStore> & Public<PostProvisioningStore> & Omit<Public<FeedbackStore>, 'holdRating'> & Public<MuteStore>;

/** The survey store of an open database; `surveyKey` is read on first use. */
export function surveyStore(db: Db, surveyKey: () => Buffer): SurveyStore {
  const subkey = subkeys(surveyKey);
  const feedback = new FeedbackStore(db, subkey);
  return compose<SurveyStore>({}, [new PulseStore(db, subkey, feedback), new PostProvisioningStore(db, feedback), feedback, new MuteStore(db)]);
}
