import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { SecureContextOptions, Server as TlsServer } from 'node:tls';

/** Mozilla's "intermediate" TLS 1.2 suites (forward secret, AEAD only); TLS 1.3 uses Node's defaults. */
const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** The HTTPS server's TLS settings, reading the certificate and key files now. */
export function tlsOptions(files: TlsFiles): SecureContextOptions & { minVersion: 'TLSv1.2' } {
  return {
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
    minVersion: 'TLSv1.2',
    ciphers: TLS12_CIPHERS,
    honorCipherOrder: true,
  };
}

/**
 * Re-reads the certificate and key (after a renewal) into the running server: new handshakes use
 * them, open connections keep theirs. A file that cannot be read or does not parse leaves the old
 * certificate in place and throws.
 */
export function reloadCertificate(server: Server, files: TlsFiles): void {
  (server as unknown as TlsServer).setSecureContext(tlsOptions(files));
}
