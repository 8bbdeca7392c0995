// tlsdoctor env: describe this Node.js's TLS defaults as one JSON line on stdout.
// Run with `node -e`; it only reads its own settings, never connects.
const tls = require('tls');

console.log(JSON.stringify({
  node: process.versions.node,
  // Node built against a shared or absent OpenSSL may not say.
  openssl: process.versions.openssl || null,
  // Since Node 11; absent (so omitted) before.
  min_version: tls.DEFAULT_MIN_VERSION,
  max_version: tls.DEFAULT_MAX_VERSION,
  // Since Node 12.3: the compiled-in Mozilla root store.
  root_certificates: (tls.rootCertificates || []).length,
}));
