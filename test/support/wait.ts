/**
 * Waits until `check` returns something other than undefined or false, and returns it; throws
 * naming `what` when `timeoutMs` passes first. For effects that happen after a request is
 * answered (Slack calls, kube writes), never to measure speed.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
