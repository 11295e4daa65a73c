// Installs the workspace when needed, so `npm start` and `npm test` work on a
// fresh clone with only Node and npm. pnpm comes from the npm registry.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmVersion = pkg.packageManager.split('@')[1];

function hasPnpm() {
  const r = spawnSync('pnpm', ['--version'], { encoding: 'utf8', shell: process.platform === 'win32' });
  return r.status === 0 && r.stdout.trim() === pnpmVersion;
}

function installed() {
  const marker = join(root, 'node_modules', '.modules.yaml');
  const lock = join(root, 'pnpm-lock.yaml');
  if (!existsSync(marker)) return false;
  if (!existsSync(lock)) return true;
  return statSync(marker).mtimeMs >= statSync(lock).mtimeMs;
}

const env = { ...process.env };
// better-sqlite3 may have to compile from source (no prebuilt download on
// locked-down machines); point node-gyp at the local Node headers when present.
if (!env.npm_config_nodedir && existsSync('/usr/include/node/node_api.h')) env.npm_config_nodedir = '/usr';

if (!hasPnpm()) {
  console.log(`[quire] installing pnpm ${pnpmVersion} from the npm registry…`);
  execFileSync('npm', ['install', '--global', `pnpm@${pnpmVersion}`], { stdio: 'inherit', env });
}
if (!installed()) {
  console.log('[quire] installing workspace dependencies (first run compiles better-sqlite3, ~2 min)…');
  const args = ['install'];
  if (existsSync(join(root, 'pnpm-lock.yaml'))) args.push('--frozen-lockfile');
  execFileSync('pnpm', args, { stdio: 'inherit', cwd: root, env });
}

// `npm test` also drives a real browser (e2e/). Debian's Chromium is the one
// that works without downloads; install it when we may.
if (process.argv.includes('--browser') && !env.QUIRE_CHROMIUM && !existsSync('/usr/bin/chromium')) {
  const canApt = process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (canApt) {
    console.log('[quire] installing Chromium for the browser tests (apt-get install chromium)…');
    const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env: aptEnv });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env: aptEnv });
  } else {
    console.log('[quire] no Chromium at /usr/bin/chromium: the browser tests will fail. Install it (Debian: apt-get install chromium) or set QUIRE_CHROMIUM to a Chromium binary.');
  }
}
