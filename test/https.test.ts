import crypto from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/server.js';
import { TestPki } from './helpers/certs.js';
import { tempDir, testConfig } from './helpers/env.js';

describe('serving HTTPS directly (TLS_CERT / TLS_KEY)', () => {
  let pki: TestPki;
  let server: RunningServer;
  let port: number;

  beforeAll(async () => {
    pki = new TestPki(tempDir())
      .ca('ca')
      .issue('first', 'ca', { ip: '127.0.0.1' })
      .issue('second', 'ca', { ip: '127.0.0.1' });
    copyFileSync(pki.file('first.pem'), pki.file('cert.pem'));
    copyFileSync(pki.file('first.key'), pki.file('key.pem'));
    const config = testConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      MQTT_ENABLED: 'false',
      TLS_CERT: pki.file('cert.pem'),
      TLS_KEY: pki.file('key.pem'),
    });
    server = await startServer(config, pino({ level: 'silent' }), { migrate: true, noSetupLink: true });
    port = Number(new URL(server.url).port);
  });
  afterAll(() => server.shutdown('test done'));

  /** The certificate the server presents to a new connection, with the protocol agreed. */
  const handshake = (opts: tls.ConnectionOptions = {}, to = port) =>
    new Promise<{ fingerprint: string; protocol: string | null }>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: to, ca: pki.read('ca.pem'), ...opts }, () => {
        const result = {
          fingerprint: socket.getPeerCertificate().fingerprint256,
          protocol: socket.getProtocol(),
        };
        socket.end();
        resolve(result);
      });
      socket.on('error', reject);
    });
  const fingerprintOf = (name: string) => new crypto.X509Certificate(pki.read(name)).fingerprint256;

  it('answers over HTTPS with a certificate that verifies, TLS 1.2 or later', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(`${server.url}/healthz`, { ca: pki.read('ca.pem') }, (res) => {
          let data = '';
          res.on('data', (d) => {
            data += d;
          });
          res.on('end', () => resolve(data));
        })
        .on('error', reject);
    });
    expect(JSON.parse(body)).toMatchObject({ status: 'ok' });
    expect((await handshake()).protocol).toMatch(/^TLSv1\.[23]$/);
    expect((await handshake({ maxVersion: 'TLSv1.2' })).protocol).toBe('TLSv1.2');
  });

  it('refuses TLS 1.0 and 1.1, and TLS 1.2 suites that are not AEAD (CBC with SHA-1)', async () => {
    // A control server that allows TLS 1.0: this client can speak the old protocols, so the refusal below is Vigil's.
    const legacy = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const;
    const control = tls.createServer({
      cert: pki.read('first.pem'),
      key: pki.read('first.key'),
      minVersion: 'TLSv1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
    try {
      const controlPort = (control.address() as { port: number }).port;
      expect((await handshake(legacy, controlPort)).protocol).toMatch(/^TLSv1(\.1)?$/);
      await expect(handshake(legacy)).rejects.toThrow();
      await expect(
        handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' }, controlPort),
      ).resolves.toBeDefined();
      await expect(handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' })).rejects.toThrow();
    } finally {
      control.close();
    }
  });

  it('reloads a renewed certificate on SIGHUP; a broken file leaves the current one in place', async () => {
    expect((await handshake()).fingerprint).toBe(fingerprintOf('first.pem'));
    copyFileSync(pki.file('second.pem'), pki.file('cert.pem'));
    copyFileSync(pki.file('second.key'), pki.file('key.pem'));
    process.emit('SIGHUP', 'SIGHUP');
    expect((await handshake()).fingerprint).toBe(fingerprintOf('second.pem'));
    writeFileSync(pki.file('cert.pem'), 'not a certificate');
    expect(() => server.reloadTls()).toThrow();
    process.emit('SIGHUP', 'SIGHUP');
    expect((await handshake()).fingerprint).toBe(fingerprintOf('second.pem'));
  });

  it('refuses a certificate without its key at configuration', () => {
    expect(() => testConfig({ TLS_CERT: pki.file('first.pem') })).toThrow(
      /TLS_KEY: TLS_CERT and TLS_KEY go together/,
    );
    expect(() => testConfig({ TLS_CERT: pki.file('nope.pem'), TLS_KEY: pki.file('first.key') })).toThrow(
      /TLS_CERT: file not found/,
    );
  });
});
