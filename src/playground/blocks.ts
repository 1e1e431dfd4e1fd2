/** Pieces of Slack's JSON that the emulator, the requests it signs and the demo's client share. */

/** A JSON object, as Slack's payloads and Block Kit hold them. */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A block's interactive elements: an actions block's elements, an input's element, a section's accessory. */
export function interactiveElements(block: JsonObject): JsonObject[] {
  if (block.type === 'actions' && Array.isArray(block.elements)) return block.elements.filter(isObject);
  if (block.type === 'input' && isObject(block.element)) return [block.element];
  if (block.type === 'section' && isObject(block.accessory)) return [block.accessory];
  return [];
}
