import { nodeConditions as conditions, sharedConfig } from '../../vitest.shared.ts';

export default { ...sharedConfig, resolve: { ...sharedConfig.resolve, conditions }, ssr: { ...sharedConfig.ssr, resolve: { ...sharedConfig.ssr!.resolve, conditions } } };
