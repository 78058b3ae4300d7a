import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Throw-away certificates made with openssl in `dir` for one test file (valid one day). */
export class TestPki {
  constructor(readonly dir: string) {}

  file(name: string): string {
    return path.join(this.dir, name);
  }

  read(name: string): string {
    return readFileSync(this.file(name), 'utf8');
  }

  /** A self-signed CA: `<name>.pem` and `<name>.key`. */
  ca(name: string): this {
    return this.selfSigned(name, {});
  }

  /**
   * A certificate signed by CA `ca` (`<name>.pem`, `<name>.key`); `ip` makes it a server
   * certificate for that address.
   */
  issue(name: string, ca: string, opts: { ip?: string } = {}): this {
    this.ssl(
      'req',
      ...EC,
      '-subj',
      `/CN=${opts.ip ?? name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    const ext = opts.ip ? ['-extfile', this.writeExt(name, opts.ip)] : [];
    this.ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '1',
      ...ext,
      '-out',
      `${name}.pem`,
    );
    return this;
  }

  /** A self-signed certificate (`ip`: a server certificate for that address). */
  selfSigned(name: string, opts: { ip?: string }): this {
    const san = opts.ip ? ['-addext', `subjectAltName=IP:${opts.ip}`] : [];
    this.ssl(
      'req',
      '-x509',
      ...EC,
      '-days',
      '1',
      '-subj',
      `/CN=${opts.ip ?? name}`,
      ...san,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
    );
    return this;
  }

  private writeExt(name: string, ip: string): string {
    const file = `${name}.ext`;
    writeFileSync(this.file(file), `subjectAltName=IP:${ip}\n`);
    return file;
  }

  private ssl(...args: string[]): void {
    execFileSync('openssl', args, { stdio: 'ignore', cwd: this.dir });
  }
}
