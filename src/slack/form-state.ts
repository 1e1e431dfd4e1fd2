import { z } from 'zod';
import type { ChangeFields } from '../domain/lifecycle.ts';
import type { RequestFields } from '../domain/requests.ts';
import { ACTION, BLOCK } from './ids.ts';

/**
 * A submitted view's `state.values` come from the client and may be forged: an element's state
 * is read through a schema, and one of the wrong shape reads as empty (so its field asks again)
 * instead of throwing in a handler.
 */
const option = z.object({ value: z.string() });
const inputState = z.object({
  value: z.string().nullish(),
  selected_option: option.nullish(),
  selected_options: z.array(option).nullish(),
  selected_date: z.string().nullish(),
});
type InputState = z.infer<typeof inputState>;

function field(values: unknown, block: string): InputState | undefined {
  if (!values || typeof values !== 'object' || !Object.hasOwn(values, block)) return undefined;
  const actions: unknown = (values as Record<string, unknown>)[block];
  if (!actions || typeof actions !== 'object' || !Object.hasOwn(actions, ACTION.input)) return undefined;
  const parsed = inputState.safeParse((actions as Record<string, unknown>)[ACTION.input]);
  return parsed.success ? parsed.data : undefined;
}

/** The submitted value of a text, select or date input, or undefined when empty. */
export function readValue(values: unknown, block: string): string | undefined {
  const v = field(values, block);
  if (!v) return undefined;
  return v.value ?? v.selected_option?.value ?? v.selected_date ?? undefined;
}

/** The values of the options ticked in a checkboxes or multi-select input. */
export function readSelected(values: unknown, block: string): string[] {
  return field(values, block)?.selected_options?.map((o) => o.value) ?? [];
}

/** Reads the request form's state into plain fields for validation. */
export function readRequestFields(values: unknown): RequestFields {
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

/** Reads the change form's state (the request form's size, purpose and end date, and other teams' access). */
export function readChangeFields(values: unknown): ChangeFields {
  return {
    tier: readValue(values, BLOCK.tier),
    purpose: readValue(values, BLOCK.purpose),
    expiresOn: readValue(values, BLOCK.expiry),
    edit: readSelected(values, BLOCK.accessEdit),
    view: readSelected(values, BLOCK.accessView),
  };
}

/**
 * A view's `private_metadata`, as the bot wrote it when it opened the view, or undefined when it
 * is not JSON of that shape (a forged or stale submission).
 */
export function readMetadata<T>(schema: z.ZodType<T>, metadata: unknown): T | undefined {
  if (typeof metadata !== 'string') return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(metadata);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

/** A database id as the bot writes it into a button's value: digits only. */
export const idValue = z
  .string()
  .regex(/^[1-9]\d{0,14}$/)
  .transform(Number);

/** The id a button carries, or undefined when its value is not one (a forged click). */
export function readId(value: unknown): number | undefined {
  const parsed = idValue.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
