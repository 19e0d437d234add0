// @ts-check
/** Mutation testing of the modules whose mistakes cost most (npm run test:mutate, docs/testing.md). */
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutate.config.ts' },
  coverageAnalysis: 'perTest',
  mutate: [
    // codecs
    'shared/index-protocol.ts',
    'shared/transfer-protocol.ts',
    'shared/discovery-fields.ts',
    'shared/json-line.ts',
    'shared/line-splitter.ts',
    'peer/gossip/tlv-codec.ts',
    'peer/lan/datagram.ts',
    // the registry
    'server/registry.ts',
    'server/holder-index.ts',
    // name safety
    'shared/file-names.ts',
    // part files, the piece schedule and the vote on which version to fetch
    'peer/transfer/part-file.ts',
    'peer/transfer/piece-schedule.ts',
    'peer/transfer/version-vote.ts',
    // gossip table
    'peer/gossip/peer-table.ts',
    // sanitising: what peers send, cleaned before it reaches a terminal
    'shared/terminal-text.ts',
    'shared/utf8-text.ts',
  ],
  concurrency: 2,
  tempDirName: '.stryker-tmp',
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  thresholds: { high: 90, low: 85, break: null },
  timeoutMS: 10000,
};
