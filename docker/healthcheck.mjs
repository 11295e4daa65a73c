// The image's HEALTHCHECK: exit 0 when /healthz answers 200, 1 otherwise
// (503 while the server drains, or nothing listening). Node, not curl: the
// slim image has no curl. QUIRE_HEALTH_URL overrides the URL (another port).
const url = process.env.QUIRE_HEALTH_URL ?? 'http://127.0.0.1:8787/healthz';
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  process.exit(res.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
