// Packs the published packages into tarballs (pnpm pack turns `workspace:*`
// into real versions), for an app outside this repository until they are on
// npm. Run through `npm run pack`, which builds first.
// Usage: node scripts/pack.mjs [--out <dir>]   (default .packs/)
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFlag = process.argv.indexOf('--out');
const out = resolve(outFlag === -1 ? join(root, '.packs') : process.argv[outFlag + 1]);
const packages = ['core', 'server', 'react'];

mkdirSync(out, { recursive: true });
// Tarballs of an older version would otherwise stay next to the new ones.
for (const old of readdirSync(out).filter((f) => /^quire-.*\.tgz$/.test(f))) rmSync(join(out, old));
for (const name of packages) {
  const dir = join(root, 'packages', name);
  // The MIT license asks for its text in every copy: npm packs a LICENSE it finds next to package.json.
  const license = join(dir, 'LICENSE');
  const borrowed = !existsSync(license);
  if (borrowed) copyFileSync(join(root, 'LICENSE'), license);
  try {
    execFileSync('pnpm', ['pack', '--pack-destination', out], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  } finally {
    if (borrowed) rmSync(license);
  }
}
const tarballs = readdirSync(out).filter((f) => f.endsWith('.tgz'));
console.log(`[quire] packed ${tarballs.length} packages into ${out}:`);
for (const file of tarballs) console.log(`  ${file}`);
const install = ['core', 'server'].map((name) => join(out, tarballs.find((f) => f.startsWith(`quire-${name}-`)) ?? ''));
console.log(`\nIn your app: npm install ${install.join(' ')}`);
