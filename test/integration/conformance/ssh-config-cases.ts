// ssh_config cases for the conformance suite. Each is a set of files (written under a fresh
// folder; `config` is given to ssh as -F), a destination, and the -l/-p an inventory would pass.
// `$D` stands for that folder and `$INC` for a folder under ~/.ssh (relative Include paths start
// there). The expected answer is never written here: it is what the installed `ssh -G` prints.
export interface SshConfigCase {
  name: string;
  files: Record<string, string>;
  host: string;
  user?: string;
  port?: number;
  /** files created under $INC (~/.ssh/…), for relative and ~ includes */
  homeFiles?: Record<string, string>;
}

const c = (name: string, config: string, host: string, more: Partial<SshConfigCase> = {}): SshConfigCase => ({
  name,
  host,
  ...more,
  files: { config, ...(more.files ?? {}) },
});

export const SSH_CONFIG_CASES: SshConfigCase[] = [
  c('HostName, User, Port', 'Host db1\n  HostName 10.0.0.11\n  User admin\n  Port 2222\n', 'db1'),
  c(
    'keywords in any case: Hostname, USER, port',
    'Host db1\n  Hostname 10.0.0.11\n  USER admin\n  port 2200\nHost *\n  User late\n  Port 2999\n',
    'db1',
  ),
  c('keyword=value and keyword = value', 'Host=db1\n  HostName=10.0.0.12\n  User = eq\n  Port= 2023\n', 'db1'),
  c('the first value wins over a later Host *', 'Host db1\n  User first\nHost *\n  User second\n  Port 2201\n', 'db1'),
  c(
    'Host * first wins over a later specific block',
    'Host *\n  User star\nHost db1\n  User specific\n  HostName 10.0.0.13\n',
    'db1',
  ),
  c('lines before the first Host apply to every host', 'User global\nPort 2202\nHost db1\n  User nope\n', 'db1'),
  c('? matches exactly one character (no match for db)', 'Host db?\n  HostName 10.0.0.14\n', 'db'),
  c('? matches exactly one character (db1)', 'Host db?\n  HostName 10.0.0.14\n', 'db1'),
  c('a comma does not split Host patterns', 'Host a,b\n  HostName 10.0.0.15\n', 'a'),
  c('patterns are separated by whitespace', 'Host x y\tz\n  HostName 10.0.0.16\n', 'z'),
  c(
    'a negated pattern excludes the host',
    'Host * !bastion\n  ProxyJump bastion\n  User inner\nHost bastion\n  HostName 10.0.0.1\n',
    'bastion',
  ),
  c('a negated pattern alone matches nothing', 'Host !foo\n  User neg\n', 'bar'),
  c('Host patterns are case-sensitive', 'Host DB1\n  User upper\nHost db1\n  User lower\n', 'db1'),
  c('* matches dots and is anchored', 'Host *.example.com\n  User dotted\nHost *\n  User other\n', 'db.example.com'),
  c(
    'Match host sees the expanded HostName',
    'Host db1\n  HostName %h.internal\nMatch host *.internal\n  User inside\n  Port 2203\n',
    'db1',
  ),
  c(
    'Match originalhost sees the name as given',
    'Host db1\n  HostName 10.0.0.17\nMatch originalhost db1\n  User orig\nMatch host 10.0.0.17\n  Port 2204\n',
    'db1',
  ),
  c('Match !host (negated criteria apply)', 'Match !host db*\n  User notdb\nMatch host db*\n  User isdb\n', 'web1'),
  c('Match host takes a comma list with negation', 'Match host "a*,!ab"\n  User alist\n', 'ac'),
  c('Match host patterns are lowercased', 'Match host DB1\n  User matched\n', 'db1'),
  c('Match user sees -l', 'Match user deploy\n  Port 2205\n', 'db1', { user: 'deploy' }),
  c('Match user sees the User set so far', 'Host db1\n  User ops\nMatch user ops\n  HostName 10.0.0.18\n', 'db1'),
  c('Match localuser', 'Match localuser *\n  User fromlocal\n', 'db1'),
  c('Match exec that succeeds (tokens expanded)', 'Match exec "test %n = db1"\n  User execok\n', 'db1'),
  c('Match exec that fails', 'Match exec "test %n = other"\n  User execok\nHost *\n  User fallback\n', 'db1'),
  c('Match !exec', 'Match !exec "false"\n  Port 2206\n', 'db1'),
  c('Match exec is skipped after a failed criterion', 'Match host nomatch exec "exit 0"\n  User skipped\n', 'db1'),
  c('Match all', 'Host db1\n  HostName 10.0.0.19\nMatch all\n  User everyone\n', 'db1'),
  c(
    'Match final re-reads with the final host name',
    'Host db1\n  HostName db1.example.org\nHost *.example.org\n  User orgs\nMatch final\n  Port 2207\n',
    'db1',
  ),
  c('Match canonical never matches without canonicalisation', 'Match canonical\n  User canon\n', 'db1'),
  c('Include an absolute path', 'Include $D/inc.conf\nHost *\n  User after\n', 'db1', {
    files: { 'inc.conf': 'Host db1\n  HostName 10.0.0.20\n  User included\n' },
  }),
  c('Include a relative path (from ~/.ssh)', 'Include $INC/rel.conf\n', 'db1', {
    homeFiles: { 'rel.conf': 'Host db1\n  User relative\n  Port 2208\n' },
  }),
  c('Include a ~ path', 'Include ~/.ssh/$INC/tilde.conf\n', 'db1', {
    homeFiles: { 'tilde.conf': 'Host db1\n  User tilde\n' },
  }),
  c('Include a glob, files in order', 'Include $D/conf.d/*.conf\n', 'db1', {
    files: {
      'conf.d/20-b.conf': 'Host db1\n  User second\n',
      'conf.d/10-a.conf': 'Host db1\n  User first\n  Port 2209\n',
    },
  }),
  c(
    'Include inside a Host block that does not match',
    'Host other\n  Include $D/inner.conf\nHost *\n  User outer\n',
    'db1',
    { files: { 'inner.conf': 'User inner\nHost db1\n  Port 2210\n' } },
  ),
  c('Include inside a matching Host block', 'Host db1\n  Include $D/inner.conf\n  Port 2211\n', 'db1', {
    files: { 'inner.conf': 'User inner\n' },
  }),
  c('Include of a missing file is no error', 'Include $D/missing.conf\nHost db1\n  User present\n', 'db1'),
  c('a comment after a value', 'Host db1 # the primary\n  User bob # not part of it\n  Port 2212 # nor this\n', 'db1'),
  c('# inside a word is kept', 'Host db1\n  IdentityFile /keys/id#1\n  User a#b\n', 'db1'),
  c('quoted values with spaces', 'Host db1\n  IdentityFile "/keys/my key"\n  User "quoted"\n', 'db1'),
  c(
    'IdentityFile accumulates, tokens expanded',
    'Host db1\n  HostName 10.0.0.21\n  User idu\n  IdentityFile ~/.ssh/%h_%r_%p\n  IdentityFile /k/%n-%u-%i-%%\n  IdentityFile /k/%l-%L-%d\nHost *\n  IdentityFile /k/star\n  Port 2213\n',
    'db1',
  ),
  c('IdentityFile defaults', 'Host db1\n  User x\n', 'db1'),
  c('ProxyJump one hop', 'Host db1\n  ProxyJump ops@bastion:2222\n', 'db1'),
  c('ProxyJump a chain', 'Host db1\n  ProxyJump a,b@c:2200\n', 'db1'),
  c('ProxyJump none', 'Host db1\n  ProxyJump none\nHost *\n  ProxyJump bastion\n', 'db1'),
  c(
    'ProxyCommand with tokens and a # kept',
    'Host db1\n  HostName 10.0.0.22\n  Port 2214\n  User pc\n  ProxyCommand ssh -W %h:%p jump # via jump\n',
    'db1',
  ),
  c(
    'ProxyCommand before ProxyJump: the first wins',
    'Host db1\n  ProxyCommand nc %h %p\nHost *\n  ProxyJump bastion\n',
    'db1',
  ),
  // found by the generated configurations
  c(
    'ProxyJump none does not block a later ProxyCommand',
    'Host db1\n  ProxyJump none\n  Port 2222\nMatch final\n  ProxyCommand nc %h %p\n',
    'db1',
  ),
  c(
    'ProxyCommand none blocks a later ProxyJump',
    'Host db1\n  ProxyCommand none\nHost *\n  ProxyJump bastion\n',
    'db1',
  ),
  c(
    'ProxyJump before ProxyCommand: the first wins',
    'Host db1\n  ProxyJump bastion\nHost *\n  ProxyCommand nc %h %p\n',
    'db1',
  ),
  c(
    'UserKnownHostsFile list with tokens',
    'Host db1\n  HostName 10.0.0.23\n  UserKnownHostsFile ~/.ssh/kh_%h_%p /etc/kh/%n_%r %d/x\nHost *\n  UserKnownHostsFile /ignored\n',
    'db1',
  ),
  c('ConnectTimeout in seconds and minutes', 'Host db1\n  ConnectTimeout 1m5s\n', 'db1'),
  c('HostKeyAlias', 'Host db1\n  HostName 10.0.0.24\n  HostKeyAlias db1-key\n', 'db1'),
  c('-p from the inventory wins over Port', 'Host db1\n  Port 2215\n', 'db1', { port: 2300 }),
  c('-l from the inventory wins over User', 'Host db1\n  User cfg\n', 'db1', { user: 'inv' }),
  c('HostName with %h is lowercased', 'Host db1\n  HostName %h.EXAMPLE.COM\n', 'db1'),
  c('tabs, leading blanks and CRLF line ends', '\tHost db1\r\n\t  HostName   10.0.0.25  \r\n   User\tcr\r\n', 'db1'),
  c(
    'unknown keywords listed in IgnoreUnknown',
    'IgnoreUnknown NoSuchOption\nHost db1\n  NoSuchOption yes\n  User ign\n',
    'db1',
  ),
  c('a Port given by service name', 'Host db1\n  Port http\n', 'db1'),
  c('a bad Port is an error', 'Host db1\n  Port nosuchservice\n', 'db1'),
  c('Match without criteria is an error', 'Match\n  User x\n', 'db1'),
  c('an unknown Match criterion is an error', 'Match nosuch x\n  User x\n', 'db1'),
];
