import { normalize, squeezeSql } from './normalize.js';

export type ThreatCategory = 'sqli' | 'xss' | 'traversal' | 'cmdi' | 'scanner';

export interface Finding {
  readonly category: ThreatCategory;
  /** 0–1: how sure the pattern is that this is an attack. */
  readonly score: number;
  /** The rule that matched (for security events; never the whole input). */
  readonly rule: string;
}

type Rule = readonly [name: string, pattern: RegExp, score: number];

const SQL_WORD =
  '(?:select|insert|update|delete|drop|create|alter|exec|execute|declare|shutdown|truncate|grant|revoke|union|waitfor)';

const SQLI: readonly Rule[] = [
  ['union-select', /\bunion(?:\s+(?:all|distinct))?\s*(?:\(\s*)?select/, 0.95],
  ['select-statement', /^\s*select\s+[\w.*]+(?:\s*\([^)]*\))?(?:\s*,\s*[\w.*]+(?:\s*\([^)]*\))?)*\s*;/, 0.85],
  [
    'create-statement',
    /\bcreate\s+(?:temporary\s+)?(?:table|database|user|function|procedure|view|trigger|schema|role)\s+[\w.`"[\]]+\s*(?:\(|as\b|;|$)/,
    0.9,
  ],
  ['leading-boolean', /^\s*\)*\s*(?:or|and)\s+(?:not\s+)?['"]?\w+['"]?\s*(?:=|<>|!=|<|>)\s*['"]?\w*/, 0.85],
  ['chained-boolean', /\b(?:or|and)\s+\d+\s*=\s*\d+\s+(?:and|or)\b/, 0.9],
  [
    'time-or-error-function',
    /\b(?:sleep|benchmark|pg_sleep|randomblob|extractvalue|updatexml|load_file|utl_inaddr\.get_host_address|dbms_pipe\.receive_message|dbms_lock\.sleep|make_set|elt|geometrycollection|multipoint|exp|floor\(rand)\s*\(/,
    0.9,
  ],
  ['waitfor-delay', /\bwaitfor\s+(?:delay|time)\s+['"\d]/, 0.95],
  [
    'catalog',
    /\binformation_schema\b|\bpg_catalog\b|\bpg_(?:user|shadow|database|tables)\b|\bsysobjects\b|\bsyscolumns\b|\bmysql\.user\b|\bsqlite_master\b|@@(?:version|datadir|hostname)\b|\bversion\s*\(\s*\)|\bcurrent_user\b|\buser\s*\(\s*\)|\bdatabase\s*\(\s*\)/,
    0.9,
  ],
  [
    'quote-boolean',
    /['"`)]\s*(?:or|and|xor|\|\||&&)\s*(?:not\s+)?(?:\(?\s*['"]?\w*['"]?\s*(?:=|<>|!=|<=>|\blike\b|\bis\s+(?:not\s+)?null\b|\bin\s*\(|\bbetween\b|\bregexp\b|\brlike\b)|\d+\s*(?:[=<>]|--|#)|true\b|false\b|null\b|\(?\s*select\b|sleep\b|benchmark\b|['"]\s*['"]|['"]?\s*(?:--|#))/,
    0.95,
  ],
  [
    'numeric-tautology',
    /\b(?:or|and|xor|having|where)\s+\(?\s*['"]?(\w+)['"]?\s*(?:=|<=>|like)\s*['"]?\1\b/,
    0.9,
  ],
  [
    'boolean-comparison-comment',
    /\b(?:or|and|having)\s+\d+\s*(?:=|<|>|!=|<>)\s*\d+\s*(?:--|#|\/\*|;|$)/,
    0.9,
  ],
  ['or-then-comment', /\b(?:or|and)\s+['"]?\w+['"]?\s*(?:--|#)\s*$/, 0.85],
  ['stacked-query', new RegExp(`;\\s*${SQL_WORD}\\b`), 0.9],
  ['quote-comment', /['"`]\s*\)*\s*(?:--|#|\/\*|;\s*--)/, 0.85],
  ['quote-paren-close', /['"]\s*\)+\s*(?:or|and|union|order|group|having|where|;)\b/, 0.9],
  [
    'order-by-index',
    /\b(?:order|group)\s+by\s+\d+(?:\s*,\s*(?:\d+|[a-z_]+\s*\([^)]*\)))*\s*(?:--|#|\/\*|;|$)/,
    0.85,
  ],
  ['having', /\bhaving\s+\d+\s*(?:=|<|>)\s*\d+/, 0.9],
  [
    'procedure',
    /\bxp_cmdshell\b|\b(?:exec|execute)\s+(?:master\.\.)?(?:xp|sp)_\w+|\bsp_executesql\b|\bopenrowset\b/,
    0.95,
  ],
  [
    'char-chain',
    /\b(?:char|chr|nchar)\s*\(\s*\d+\s*\)(?:\s*(?:\+|\|\||,|\s)\s*(?:char|chr|nchar)\s*\(\s*\d+\s*\))+/,
    0.9,
  ],
  [
    'concat-functions',
    /\b(?:group_concat|concat_ws|concat)\s*\(|\b(?:cast|convert)\s*\([^)]*\b(?:as|using)\b/,
    0.8,
  ],
  [
    'select-from-syntax',
    /\bselect\s+(?:\*|top\s+\d+|distinct\b|count\s*\(|[\w.]+\s*,\s*[\w.]+)[^;]{0,80}?\bfrom\s+[\w.`"[\]]+/,
    0.85,
  ],
  ['select-from-where', /\bselect\b[^;]{1,80}?\bfrom\b\s+[\w.`"[\]]+\s+where\b/, 0.9],
  [
    'ddl-dml',
    /\b(?:drop|truncate)\s+(?:table|database|schema|view|user)\s+(?:if\s+exists\s+)?[\w.`"[\]]+\s*(?:;|--|#|$)|\binsert\s+into\s+[\w.`"[\]]+\s*(?:\(|values\b|select\b)|\bdelete\s+from\s+[\w.`"[\]]+\s*(?:where\b|;|--|#|$)|\bupdate\s+[\w.`"[\]]+\s+set\s+[\w.`"[\]]+\s*=|\binto\s+(?:out|dump)file\b|\bload\s+data\s+infile\b/,
    0.9,
  ],
  ['hex-payload', /\b0x[0-9a-f]{16,}\b/, 0.8],
  ['like-wildcard-injection', /['"]\s*like\s*['"]%/, 0.85],
  ['comment-obfuscation', /\/\*!?\d*\s*(?:union|select|and|or)\b/, 0.9],
  [
    'sql-keyword-comment',
    new RegExp(`\\b(?:${SQL_WORD}|from|where|order\\s+by|or|and)\\b[^\\n]{0,40}(?:--\\s*$|#\\s*$|--\\s+-)`),
    0.8,
  ],
];

const HTML_TAGS =
  'script|iframe|frame|frameset|object|embed|applet|svg|math|img|image|video|audio|source|track|body|html|head|meta|link|style|base|form|input|button|textarea|select|option|keygen|details|summary|marquee|isindex|xml|xss|div|span|a|p|b|i|u|table|td|tr|th|bgsound|layer|ilayer|template|portal|animate|animatetransform|set|use|foreignobject|circle|rect|path|g|x|var|import|title|br|hr|h[1-6]|ul|li|ol|code|pre|plaintext|xmp|noscript|noembed|canvas|dialog|menu|command|event-source|blink|comment|font|center|label|fieldset|legend|area|map|param|picture|slot|shadow|content|element|tt';

const XSS: readonly Rule[] = [
  ['script-tag', /<\s*\/?\s*script\b/, 0.97],
  ['script-scheme', /(?:j\s*a\s*v\s*a|v\s*b|l\s*i\s*v\s*e)\s*s\s*c\s*r\s*i\s*p\s*t\s*:/, 0.95],
  ['event-handler-in-tag', /<[^>]*[\s/"'`]on[a-z]{3,}\s*=/, 0.95],
  [
    'event-handler',
    /(?:^|[\s"'`;/])on(?:error|load|mouseover|mouseout|mousedown|mouseup|mouseenter|mousemove|click|dblclick|focus|focusin|blur|change|input|submit|keydown|keyup|keypress|toggle|begin|end|animationstart|animationend|transitionend|pageshow|hashchange|message|scroll|wheel|resize|unload|beforeunload|readystatechange|start|finish|copy|paste|cut|drag\w*|drop|play|pointer\w+|touch\w+|select|search|invalid|contextmenu|auxclick)\s*=/,
    0.9,
  ],
  // A browser starts a tag only at `<` directly followed by a letter or `/`: "5 < x" is not one,
  // nor is "a<b then" (a one-letter name needs `>` or an attribute after it).
  [
    'known-tag',
    new RegExp(
      `</?(?:${HTML_TAGS})(?:[/>:]|\\s+[a-z-]+\\s*=|\\s*$)|</?(?:${HTML_TAGS.replace(/\|(?:a|b|i|u|p|g|x)(?=\|)/g, '')})\\s`,
    ),
    0.85,
  ],
  ['namespaced-tag', /<\s*[a-z]+:[a-z]+[\s/>]/, 0.85],
  [
    'dom-sink',
    /\bdocument\s*\.\s*(?:cookie|domain|write|writeln|location)\b|\bwindow\s*\.\s*(?:location|open|name)\b|\.innerhtml\b|\.outerhtml\b|\bstring\s*\.\s*fromcharcode\b|\bfromcharcode\s*\(|\beval\s*\(|\bsettimeout\s*\(\s*['"`]|\bsetinterval\s*\(\s*['"`]|\bnew\s+function\s*\(|\batob\s*\(|\btop\s*\[/,
    0.9,
  ],
  [
    'dialog-call',
    /\b(?:alert|prompt|confirm)\s*(?:\(\s*(?:['"`\d/]|document|this|window|string|1\)|\))|`)/,
    0.9,
  ],
  [
    'css-expression',
    /\bexpression\s*\(|\bbehavio(?:u)?r\s*:\s*url|-moz-binding\s*:|@import\s+['"]?(?:javascript|data|http)/,
    0.9,
  ],
  [
    'data-html',
    /\bdata\s*:\s*(?:text\/html|application\/(?:x-)?javascript|image\/svg\+xml)|\bdata\s*:[^,]{0,40};\s*base64\s*,/,
    0.9,
  ],
  ['attribute-breakout', /["'`]\s*\/?\s*>\s*<\s*[a-z!/]/, 0.9],
  [
    'markup-declaration',
    /<!\[cdata\[|<!--.*?-->\s*<|<!doctype\b|<\?xml\b|<!(?:entity|attlist|element)\b/,
    0.85,
  ],
  ['html-comment', /<!--/, 0.8],
  ['xml-namespace', /\bxmlns(?::\w+)?\s*=\s*["']?https?:\/\/www\.w3\.org\//, 0.85],
  ['server-tag', /<%(?:[=@#:]|\s)/, 0.85],
  [
    'script-code',
    /\bfunction\s*[\w$]*\s*\([^)]*\)\s*\{|\bfor\s*\(\s*(?:var\s+|let\s+)?\w+\s*=[^;]*;[^;]*;[^)]*\+\+\s*\)|\b(?:document\s*\.\s*|window\s*\.\s*)?location(?:\s*\.\s*href)?\s*=\s*['"]?(?:https?:|javascript:|\/\/)/,
    0.85,
  ],
  ['svg-filter-tag', /<\s*\/?\s*fe[a-z]+\b|<\s*\/?\s*(?:stylesheet|xsl:\w+|x\d+)\b/, 0.85],
  [
    'dangerous-attribute',
    /\b(?:srcdoc|formaction|xlink:href|dynsrc|lowsrc|background|poster|action|href|src|data)\s*=\s*["'`]?\s*(?:javascript|vbscript|data)\s*:/,
    0.95,
  ],
  ['tag-with-attribute', /<\s*[a-z][a-z0-9-]*\s+[^>]*\b[a-z-]+\s*=\s*[^>]*>?/, 0.6],
];

const SENSITIVE_FILES =
  /\/etc\/(?:passwd|shadow|group|hosts|issue|hostname|motd|sudoers|crontab|fstab|mtab|profile|environment)\b|\bboot\.ini\b|\bwin\.ini\b|\bsystem\.ini\b|\/proc\/(?:self|\d+)\/|\bwindows[\\/](?:system32[\\/](?:config|drivers[\\/]etc|cmd\.exe)|win\.ini|repair)|\bwinnt[\\/]|\.htaccess\b|\.htpasswd\b|\bweb\.config\b|%systemroot%|\/\.ssh\/|\bid_rsa\b|\/\.aws\/|\/\.git\/|\bwp-config\.php\b/;
/** System locations engineers also mention in notes: suspicious, not damning. */
const SYSTEM_PLACES = /\/var\/log\/|\bc:[\\/](?:windows|winnt|boot|inetpub)\b|\bsystem32\b/;

const TRAVERSAL: readonly Rule[] = [
  ['dot-dot-repeated', /(?:\.\.+[\\/]+){2,}|(?:[\\/]\.\.+){2,}/, 0.95],
  ['dot-dot', /(?:^|[\\/=:'"])\.\.+[\\/]|[\\/]\.\.+(?:[\\/]|$)/, 0.85],
  ['odd-dots', /(?:\.[\\/]\.){2,}|\.\.\.\.\/\/|\.{3,}[\\/]/, 0.85],
  ['sensitive-file', SENSITIVE_FILES, 0.9],
  ['system-place', SYSTEM_PLACES, 0.6],
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a NUL byte is what this rule looks for.
  ['null-byte', /\u0000/, 0.85],
  ['file-scheme', /\bfile:\/\/\/?/, 0.85],
  ['overlong-utf8', /%c0%ae|%c0%af|%c1%9c|%e0%80%ae|%25c0%25ae|%uff0e|%u2215|%u2216/, 0.9],
];

const SHELL_COMMANDS =
  'ls|cat|id|whoami|uname|pwd|ping|nc|ncat|netcat|wget|curl|bash|sh|zsh|ksh|csh|dash|echo|sleep|nslookup|dig|host|ifconfig|ipconfig|dir|type|net|netsh|netstat|powershell|pwsh|cmd|cmd\\.exe|rm|chmod|chown|python[23]?|perl|php|ruby|node|systeminfo|tasklist|taskkill|ps|kill|killall|find|grep|which|whereis|env|printenv|set|export|hostname|telnet|ssh|scp|ftp|tftp|xterm|nohup|base64|xxd|od|head|tail|more|less|awk|sed|touch|mkdir|cp|mv|uptime|w|who|last|crontab|useradd|passwd|sudo|su|reg|regedit|wmic|certutil|bitsadmin|mshta|rundll32|sc|shutdown|reboot|mail|sendmail|lynx|links|socat|openssl|timeout|expr|test|true|false|exec|eval|system|phpinfo';

const CMDI: readonly Rule[] = [
  [
    'separator-command',
    // A command with the arguments of an attack (an option, a path, an address, a variable) or
    // with nothing after it; "…; nc not installed" in a note is only suspicious.
    new RegExp(
      String.raw`(?:[;&|${'`'}\n\r]|\$\(|\|\||&&)\s*(?:/(?:usr/)?(?:s?bin)/)?(?:${SHELL_COMMANDS})(?:\.exe)?(?:\s+(?:-{1,2}[a-z]|/|\\|[a-z]:\\|https?:|\d{1,3}(?:\.\d{1,3}){3}|\$|%|['"]|\*)|\s*$|\s*[;&|<>${'`'})(]|\s+[^\s;&|]+\s*[;&|<>${'`'}]|\.exe\b)`,
    ),
    0.95,
  ],
  [
    'separator-command-word',
    new RegExp(String.raw`(?:[;&|${'`'}\n\r]|\$\(|\|\||&&)\s*(?:${SHELL_COMMANDS})\s`),
    0.8,
  ],
  ['command-substitution', /\$\(\s*[a-z/{(`'"]|`[^`]{1,200}`\s*(?:[;&|]|$)/, 0.85],
  [
    'backtick-command',
    new RegExp(`\`\\s*(?:/(?:usr/)?(?:s?bin)/)?(?:${SHELL_COMMANDS})(?:\\s[^\`]*)?\``),
    0.9,
  ],
  [
    'shell-path',
    /\/(?:usr\/)?s?bin\/(?:ba|z|k|c|da)?sh\b|\/(?:usr\/)?s?bin\/\w+|\bcmd(?:\.exe)?\s+\/[ck]\b|\bpowershell(?:\.exe)?\s+-\w/,
    0.9,
  ],
  [
    'code-exec-function',
    /\b(?:system|exec|passthru|shell_exec|popen|proc_open|pcntl_exec|assert|create_function|call_user_func|preg_replace)\s*\(\s*['"$`]/,
    0.9,
  ],
  ['php-tag', /<\?(?:php|=)?\s/, 0.9],
  ['ssi', /<!--\s*#\s*(?:exec|include|echo|config)\b/, 0.95],
  ['shellshock', /\(\s*\)\s*\{\s*:?\s*;?\s*\}\s*;/, 0.95],
  [
    'template-injection',
    /\{\{[^}]*(?:__|\bclass\b|\bconfig\b|\bself\b|\d\s*[-+*/]\s*\d|\[\s*\])[^}]*\}\}|\{%\s*(?:for|if|set|import|include|macro)\b|\$\{\s*@|\{\s*\$\{|#\{[^}]*\}/,
    0.85,
  ],
  [
    'php-superglobal',
    /\$_(?:get|post|request|cookie|server|files|env)\s*\[|\b(?:phpinfo|phpversion|php_uname|getenv)\s*\(/,
    0.9,
  ],
  [
    'bare-command',
    /^['"\s;|&]*(?:whoami|ifconfig|ipconfig|systeminfo|sysinfo|netstat(?:\s+-\w+)?|uname(?:\s+-\w+)?|pwd|ls(?:\s+-\w+)?|dir|phpinfo|nslookup\s+\S+|tasklist|which\s+\w+|net\s+(?:user|localgroup|view|share|use|start|stop|session)\b.*|netsh\s+\w+.*|reg\s+(?:add|delete|query|save)\b.*|route(?:\s+print)?)\s*$/,
    0.85,
  ],
  ['ifs', /\$\{?ifs\}?|\$\{[a-z_]+(?::[^}]*)?\}|\$[a-z_]+\b\s*[;&|]/, 0.85],
  [
    'reverse-shell',
    /\bnc\s+(?:-\w+\s+)*-[el]\b|\/dev\/(?:tcp|udp)\/|\bbash\s+-i\b|>\s*&\s*\/dev\/|\bmkfifo\b|\bsocat\s+\w+:/,
    0.95,
  ],
  [
    'redirect-to-file',
    /\b(?:echo|cat|type)\b[^;&|]{0,80}>{1,2}\s*[\w./\\-]+\.(?:php|jsp|asp|aspx|sh|txt|html)\b/,
    0.9,
  ],
  ['perl-python-oneliner', /\b(?:perl|python[23]?|ruby|php|node)\s+-[ecr]\s+['"]/, 0.9],
  ['windows-env', /%(?:systemroot|windir|comspec|temp|userprofile|programfiles)%/, 0.85],
  [
    'leading-command',
    new RegExp(
      `^\\s*(?:${SHELL_COMMANDS})\\s+(?:-{1,2}[a-z]|/|[a-z]:\\\\|%|\\$|https?://|\\d+\\s*$|[a-z]+\\s*$)`,
    ),
    0.8,
  ],
];

const SCANNER_AGENTS =
  /\b(?:sqlmap|nikto|nmap|masscan|zgrab|acunetix|nessus|openvas|wpscan|dirbuster|gobuster|feroxbuster|ffuf|nuclei|wfuzz|hydra|w3af|arachni|skipfish|havij|jbrofuzz|fimap|commix|xsstrike|netsparker|appscan|webinspect|burp(?:suite)?|zap\/|owasp[ _-]?zap|morfeus|jorgee|dotdotpwn|whatweb|paros|vega\/|grabber|httpx\/)\b/;

const SCANNER_PATHS =
  /(?:^|\/)(?:\.env(?:\.\w+)?|\.git\/(?:config|head)|\.svn\/|\.ds_store|wp-(?:admin|login\.php|content|includes|config\.php)|xmlrpc\.php|phpmyadmin|pma|myadmin|cgi-bin\/|actuator(?:\/|$)|server-status|server-info|\.aws\/credentials|boaform|hnap1|manager\/html|jmx-console|solr\/admin|console\/login|owa\/auth|autodiscover\/autodiscover\.xml|vendor\/phpunit|\.well-known\/security\.txt\.bak|config\.php|shell\.php|eval-stdin\.php|admin\.php|setup\.php|install\.php)(?:$|[/?#])|\.(?:php\d?|asp|aspx|jsp|cgi|pl)(?:$|[?#])/;

function best(text: string, category: ThreatCategory, rules: readonly Rule[]): Finding | null {
  let found: Finding | null = null;
  for (const [rule, pattern, score] of rules) {
    if ((found === null || score > found.score) && pattern.test(text)) found = { category, score, rule };
  }
  return found;
}

/**
 * Every category's strongest finding in one value (a path, a query value, a header, a JSON
 * string). Plain text — letters, digits, spaces and ordinary punctuation in any script — exits
 * early: the patterns need characters such text does not have.
 */
/**
 * Recent short values and what was found in them: API traffic repeats the same paths and query
 * strings (dashboards poll), and a lookup is far cheaper than the rules.
 */
const recent = new Map<string, Finding[]>();
const RECENT_MAX = 10_000;

export function inspect(value: string): Finding[] {
  if (value.length > 256) return inspectUncached(value);
  const hit = recent.get(value);
  if (hit) return hit;
  const found = inspectUncached(value);
  if (recent.size >= RECENT_MAX) recent.clear();
  recent.set(value, found);
  return found;
}

function inspectUncached(value: string): Finding[] {
  if (value.length >= 16 && BASE64.test(value)) {
    // A payload hidden in base64 (data: URLs, parameters decoded server-side).
    const decoded = Buffer.from(decodeURIComponentSafe(value), 'base64').toString('latin1');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: tab and line breaks are printable text here.
    if (/^[\x09\x0a\x0d\x20-\x7e]+$/.test(decoded)) {
      const inner = inspect(decoded);
      if (inner.length > 0) return inner;
    }
  }
  if (value.length < 2 || !SUSPICIOUS_CHARS.test(value)) return [];
  const text = normalize(value);
  const out: Finding[] = [];
  // Each category's rules run only when the text has something they could match.
  const found = [
    GATES.sqli.test(text) ? best(squeezeSql(text), 'sqli', SQLI) : null,
    GATES.xss.test(text) ? best(text, 'xss', XSS) : null,
    GATES.traversal.test(text) ? best(text, 'traversal', TRAVERSAL) : null,
    GATES.cmdi.test(text) || SHELL_FIRST.test(text) ? best(text, 'cmdi', CMDI) : null,
  ];
  for (const f of found) if (f) out.push(f);
  return out;
}

/** What each category's rules need at least one of (on the normalised text). */
const GATES = {
  sqli: /['"`;#()=@]|--|\/\*|\b(?:union|select|sleep|benchmark|waitfor|order|group|having|insert|update|delete|drop|create|exec|execute|xp_\w+|char|concat|information_schema|or|and)\b/,
  xss: /[<`]|script|\bon[a-z]+\s*=|alert|prompt|confirm|document|window|eval|expression|data\s*:|fromcharcode|location|function|xmlns|behaviou?r|binding|import|srcdoc|formaction|\{\{/,
  traversal:
    // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL bytes are a traversal trick.
    /\.\.|\.[\\/]\.|\/etc\/|\.ini\b|\/proc\/|\.ht|web\.config|system32|winnt|windows|id_rsa|\/\.(?:ssh|aws|git)|file:|%|\u0000|\/var\/log|wp-config|c:[\\/]/,
  cmdi: /[;|&`$\n\r{}%]|<\?|<!--|#\{|\(\s*\)/,
} as const;

/** A value that starts with a shell command (alone, or with arguments). */
const SHELL_FIRST = new RegExp(
  String.raw`^['"\s;|&]*(?:${SHELL_COMMANDS}|ifconfig|ipconfig|systeminfo|sysinfo|netstat|uname|tasklist|route)\b`,
);

const BASE64 = /^(?:[a-z0-9+/]|%2b|%2f|%3d){16,}(?:=|%3d){0,2}$/i;

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Characters without which no rule can match (a cheap first filter). */
const SUSPICIOUS_CHARS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is one of the characters attacks use.
  /[<>'"`;|&$%()\\/=#*.{}\u0000]|--|\b(?:union|select|sleep|benchmark|waitfor|order|having|or|and|whoami|ifconfig|ipconfig|systeminfo|sysinfo|netstat|uname|pwd|ls|dir|phpinfo|nslookup|tasklist|which|net|netsh|reg|route)\b/i;

const SCANNER_AGENT: Finding = { category: 'scanner', score: 0.9, rule: 'scanner-user-agent' };
const SCANNER_PATH: Finding = { category: 'scanner', score: 0.7, rule: 'scanner-probe-path' };
/** User agents and paths repeat far more than query text: their verdicts are remembered. */
const agents = new Map<string, boolean>();
const paths = new Map<string, boolean>();

function remembered(cache: Map<string, boolean>, key: string, test: () => boolean): boolean {
  // Only short keys are kept: long unique ones would fill memory with request data.
  if (key.length > 256) return test();
  let hit = cache.get(key);
  if (hit === undefined) {
    hit = test();
    if (cache.size >= 10_000) cache.clear();
    cache.set(key, hit);
  }
  return hit;
}

export function inspectUserAgent(ua: string): Finding | null {
  return remembered(agents, ua, () => SCANNER_AGENTS.test(ua.slice(0, 512).toLowerCase()))
    ? SCANNER_AGENT
    : null;
}

export function inspectPath(path: string): Finding | null {
  return remembered(paths, path, () => SCANNER_PATHS.test(path.toLowerCase())) ? SCANNER_PATH : null;
}

/**
 * The guard's score (0–1) for a set of values: the strongest finding per category, plus a little
 * for each further category (several kinds of attack in one request are more certain than one).
 */
export function scoreValues(
  values: Iterable<string>,
  extra: readonly (Finding | null)[] = [],
): { findings: Finding[]; score: number } {
  // The usual case, nothing anywhere, allocates nothing beyond the answer.
  let any = extra.some((f) => f !== null);
  const found: Finding[][] = [];
  for (const v of values) {
    const f = inspect(v);
    if (f.length > 0) {
      any = true;
      found.push(f);
    }
  }
  if (!any) return { findings: [], score: 0 };
  const best = new Map<string, Finding>();
  const add = (f: Finding | null) => {
    if (f && (best.get(f.category)?.score ?? 0) < f.score) best.set(f.category, f);
  };
  for (const f of extra) add(f);
  for (const list of found) for (const f of list) add(f);
  const findings = [...best.values()].sort((a, b) => b.score - a.score);
  const top = findings[0]?.score ?? 0;
  return { findings, score: Math.min(1, top + 0.03 * Math.max(0, findings.length - 1)) };
}
