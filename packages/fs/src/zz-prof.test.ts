import { it } from 'vitest';
import { scanTar, tarBlockBytes } from '/work/main/packages/fs/src/tar.js';
import { tarHeader } from '/work/main/packages/fs/src/testing/images.js';
it('prof', async () => {
  const block = tarHeader({ name: 'some/dir/name.txt', type: '0' });
  const n = 200_000;
  const t = performance.now();
  const scan = await scanTar(async () => block, n * tarBlockBytes);
  console.log(scan.entries.length, ((performance.now() - t) / n) * 1000, 'us/entry');
});
