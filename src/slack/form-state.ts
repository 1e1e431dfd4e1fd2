import type { ViewOutput, ViewStateValue } from '@slack/bolt';
import type { RequestFields } from '../workflows/validate.ts';
import { ACTION, BLOCK } from './ids.ts';

type Values = ViewOutput['state']['values'];

function field(values: Values, block: string): ViewStateValue | undefined {
  return values[block]?.[ACTION.input];
}

/** The submitted value of a text, select or date input, or undefined when empty. */
export function readValue(values: Values, block: string): string | undefined {
  const v = field(values, block);
  if (!v) return undefined;
  return v.value ?? v.selected_option?.value ?? v.selected_date ?? undefined;
}

/** Reads the request form's state into plain fields for validation. */
export function readRequestFields(values: Values): RequestFields {
  return {
    name: readValue(values, BLOCK.name),
    team: readValue(values, BLOCK.team),
    environment: readValue(values, BLOCK.environment),
    cluster: readValue(values, BLOCK.cluster),
    tier: readValue(values, BLOCK.tier),
    purpose: readValue(values, BLOCK.purpose),
    expiresOn: readValue(values, BLOCK.expiry),
  };
}
