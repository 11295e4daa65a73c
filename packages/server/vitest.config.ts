import { sharedConfig } from '../../vitest.shared.ts';

// Without the "module" condition: the AWS SDK's packages list their "module"
// build (for bundlers, with extensionless imports Node cannot load) before
// their "node" one. The server runs in Node only.
const conditions = sharedConfig.resolve!.conditions!.filter((c) => c !== 'module');

export default { ...sharedConfig, resolve: { ...sharedConfig.resolve, conditions }, ssr: { ...sharedConfig.ssr, resolve: { ...sharedConfig.ssr!.resolve, conditions } } };
