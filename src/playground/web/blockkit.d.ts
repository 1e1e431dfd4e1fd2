// Types of blockkit.js for the TypeScript that imports it (tests, the screenshot script).
export interface RenderContext {
  /** Display names by user id, for <@U…> mentions. */
  users?: Record<string, string>;
  /** Channel names by id, for <#C…> mentions. */
  channels?: Record<string, string>;
  /** Field errors by input block id (response_action: errors). */
  errors?: Record<string, string>;
}
export function escapeHtml(value: unknown): string;
export function mrkdwn(text: string, ctx?: RenderContext): string;
export function textObject(object: unknown, ctx?: RenderContext): string;
export function unsupported(kind: string, name: string): string;
export function element(el: Record<string, unknown>, ctx?: RenderContext, blockId?: string): string;
export function block(b: Record<string, unknown>, ctx?: RenderContext): string;
export function renderBlocks(blocks: readonly unknown[], ctx?: RenderContext): string;
