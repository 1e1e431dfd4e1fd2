// A node:test reporter that writes the name of every skipped test, one per line; run-tests.mjs
// fails the run when there is any, so a test that cannot run on a machine never passes silently.
export default async function* skippedTests(source) {
  for await (const event of source) {
    if (event.type === 'test:pass' && event.data.skip !== undefined && event.data.skip !== false) {
      const reason = typeof event.data.skip === 'string' ? ` (${event.data.skip})` : '';
      yield `${event.data.file ?? ''}: ${event.data.name}${reason}\n`;
    }
  }
}
