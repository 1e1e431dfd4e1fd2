// The layer rules of src/ (docs/architecture.md), checked by `npm run lint`. Each rule's comment
// is printed with the offending import, so a broken rule says why it exists.

/** Modules that talk to the outside world: Slack, Kubernetes, the database, files, the network. */
const IO_PACKAGES = '^(node:)?(fs|net|http|https|http2|child_process|dgram|tls)(/|$)|^@slack/(web-api|bolt)$|^better-sqlite3$|^undici$|^@aws-sdk/';
/** Block Kit builders and manifest builders: pure functions from domain values to JSON/YAML. */
const PURE_BUILDERS = '^src/slack/(provisioning|adoption|surveys|lifecycle)/|^src/slack/(ids|text|usage|form-state)[.]ts$|^src/cluster/manifests[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Import cycles hide which feature depends on which, and work only as long as nothing runs while the modules load. ' +
        'Move the shared part into its own module, or let the dependent feature hook in (src/hooks.ts).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'pure-builders-no-io',
      severity: 'error',
      comment:
        'Block Kit and manifest builders are pure functions of domain values (src/domain): they are tested and reused without Slack, ' +
        'a cluster or a database, so they import no store, no workflow, no Slack or Kubernetes client and no I/O.',
      from: { path: PURE_BUILDERS },
      to: {
        path: [
          IO_PACKAGES,
          '^src/(store|workflows|handlers|jobs|cli)/',
          '^src/slack/io/',
          '^src/cluster/(client[.]ts|eks/)',
          '^src/(app|deps|hooks|env|log|metrics|probe-server)[.]ts$',
        ],
      },
    },
    {
      name: 'store-no-feature-behaviour',
      severity: 'error',
      comment:
        'The store is the only SQL and holds no behaviour: workflows call it, never the other way round. ' +
        'Types it shares with the features live in src/domain.',
      from: { path: '^src/store/' },
      to: { path: ['^src/(workflows|handlers|slack|cluster|jobs|cli|chart)/', '^src/(app|deps|hooks|config)[.]ts$'] },
    },
    {
      name: 'handlers-thin',
      severity: 'error',
      comment:
        'Handlers parse, ack and call a workflow; reading the database or a cluster belongs in the workflow, where it is tested ' +
        'and shared by every way in (Slack, CLI, jobs).',
      from: { path: '^src/handlers/' },
      to: { path: ['^src/store/', '^src/cluster/'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'provisioning-not-surveys',
      severity: 'error',
      comment:
        'Provisioning is the core and must work without surveys. The survey question after provisioning joins the ready DM ' +
        'through deps.hooks.onNamespaceReady, wired in src/hooks.ts.',
      from: { path: '^src/(workflows|slack)/provisioning/' },
      to: { path: '^src/(workflows|slack)/surveys/' },
    },
    {
      name: 'provisioning-not-lifecycle',
      severity: 'error',
      comment:
        'Provisioning is the core and must work without day 2. Lifecycle (expiry, extend, delete, Home) builds on provisioning and ' +
        'joins it through hooks (src/hooks.ts) and run kinds (deps.hooks.runKinds), never the other way round.',
      from: { path: '^src/(workflows|slack)/provisioning/' },
      to: { path: '^src/(workflows|slack)/lifecycle/' },
    },
    {
      name: 'config-no-behaviour',
      severity: 'error',
      comment:
        'Configuration is read and checked before anything runs, by the bot, the CLI and the tests; it depends on small pure helpers ' +
        '(src/lib) only, never on jobs, workflows or other behaviour.',
      from: { path: '^src/config[.]ts$' },
      to: { path: '^src/(jobs|workflows|handlers|slack|store|cluster|cli|chart)/' },
    },
    {
      name: 'playground-apart',
      severity: 'error',
      comment:
        'src/playground (the emulators and the demo page) plays Slack and a cluster for `slipway demo` and the tests; the bot never ' +
        'depends on it. Only the demo command (src/cli/demo.ts) starts it.',
      from: { path: '^src/', pathNot: ['^src/playground/', '^src/cli/demo[.]ts$'] },
      to: { path: '^src/playground/' },
    },
    {
      name: 'domain-and-lib-stand-alone',
      severity: 'error',
      comment:
        'src/domain (shared types) and src/lib (small pure helpers) sit below every feature; importing a feature from them ' +
        'would tie all features together.',
      from: { path: '^src/(domain|lib)/' },
      to: { path: ['^src/(workflows|handlers|slack|store|cluster|jobs|cli|chart)/', IO_PACKAGES] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count too: a builder must not even name a store's types (except where a rule says otherwise).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
