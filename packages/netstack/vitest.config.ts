import { fosVitestConfig } from '@fos/vitest-config';

export default fosVitestConfig();
