// Command-line parsing for `loupe <command> [--flag value] [--switch]`, strict about unknown flags
// so that a typo is an error rather than a silently ignored option.

export interface ParsedArgs {
  command: string | null;
  flags: Map<string, string>;
  switches: Set<string>;
  positional: string[];
}

export class UsageError extends Error {}

export function parseArgs(argv: string[], valueFlags: readonly string[], switchFlags: readonly string[]): ParsedArgs {
  const parsed: ParsedArgs = { command: null, flags: new Map(), switches: new Set(), positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      if (switchFlags.includes(name)) {
        if (eq > 0) throw new UsageError(`--${name} takes no value.`);
        parsed.switches.add(name);
      } else if (valueFlags.includes(name)) {
        const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value.`);
        parsed.flags.set(name, value);
      } else throw new UsageError(`Unknown option --${name}.`);
    } else if (arg === '-h') parsed.switches.add('help');
    else if (parsed.command === null) parsed.command = arg;
    else parsed.positional.push(arg);
  }
  return parsed;
}

export function intFlag(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const raw = args.flags.get(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${raw}".`);
  return value;
}
