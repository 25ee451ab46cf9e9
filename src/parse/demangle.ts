/** Rust symbol demangling: the v0 scheme (RFC 2603, `_R…`, rustc's default here) and the legacy `_ZN…E` scheme, without hashes. */

/**
 * Written here because no maintained npm package demangles v0 (the known
 * ones cover only C++ or legacy Rust). Output follows rustc-demangle's
 * alternate form (`{:#}`): crate disambiguators and hashes left out, e.g.
 * `sis_kernel::shell::commands::run_line`. Anything outside the grammar
 * returns undefined and the caller shows the raw name: a wrong name is
 * worse than a mangled one.
 */

const BASIC: Record<string, string> = {
  a: "i8",
  b: "bool",
  c: "char",
  d: "f64",
  e: "str",
  f: "f32",
  h: "u8",
  i: "isize",
  j: "usize",
  l: "i32",
  m: "u32",
  n: "i128",
  o: "u128",
  s: "i16",
  t: "u16",
  u: "()",
  v: "...",
  x: "i64",
  y: "u64",
  z: "!",
  p: "_",
};

class Failure extends Error {}

/** Demangles a v0 symbol; undefined when it is not one or does not parse. */
export function demangleV0(symbol: string): string | undefined {
  const start = symbol.startsWith("_R") ? 2 : symbol.startsWith("__R") ? 3 : -1;
  if (start < 0) return undefined;
  // rustc may append `.llvm.123` style suffixes: drop them.
  const input = symbol.slice(start).replace(/\.[A-Za-z0-9_.$]*$/, "");
  let position = 0;
  let depth = 0;

  const peek = () => input[position];
  const next = () => {
    if (position >= input.length) throw new Failure();
    return input[position++];
  };
  const eat = (char: string) => {
    if (input[position] === char) {
      position++;
      return true;
    }
    return false;
  };
  const base62 = (): number => {
    if (eat("_")) return 0;
    let value = 0;
    for (;;) {
      const char = next();
      if (char === "_") return value + 1;
      const digit = char >= "0" && char <= "9"
        ? char.charCodeAt(0) - 48
        : char >= "a" && char <= "z"
        ? char.charCodeAt(0) - 87
        : char >= "A" && char <= "Z"
        ? char.charCodeAt(0) - 29
        : -1;
      if (digit < 0) throw new Failure();
      // Disambiguators are 64-bit hashes: precision is lost there, which is
      // harmless (they are skipped); backrefs and counts stay small and exact.
      value = value * 62 + digit;
    }
  };
  const disambiguator = () => (eat("s") ? base62() + 1 : 0);
  const decimal = (): number => {
    // No leading zeros: a "0" is the number zero on its own.
    if (eat("0")) return 0;
    const begin = position;
    while (peek() >= "0" && peek() <= "9") position++;
    if (begin === position) throw new Failure();
    return Number(input.slice(begin, position));
  };
  const identifier = (): string => {
    disambiguator();
    const isPunycode = eat("u");
    const length = decimal();
    eat("_");
    if (position + length > input.length) throw new Failure();
    const text = input.slice(position, position + length);
    position += length;
    if (isPunycode) throw new Failure(); // Non-ASCII identifiers: leave the raw name.
    return text;
  };
  /** Parses at a backref target and comes back. */
  const backref = <T>(parse: () => T): T => {
    const target = base62();
    if (target >= position - 1) throw new Failure();
    const saved = position;
    position = target;
    try {
      return parse();
    } finally {
      position = saved;
    }
  };
  const guard = () => {
    if (++depth > 200) throw new Failure();
  };

  /** `isValue`: generic args print as `f::<T>` in value paths and `Foo<T>` in types. */
  const path = (isValue = false): string => {
    guard();
    try {
      const tag = next();
      switch (tag) {
        case "C":
          return identifier();
        case "N": {
          const namespace = next();
          const parent = path(isValue);
          const disambiguation = peek() === "s" ? disambiguator() : 0;
          const name = identifierAfterDisambiguator();
          if (namespace >= "A" && namespace <= "Z") {
            const kind = namespace === "C" ? "closure" : namespace === "S" ? "shim" : namespace;
            return `${parent}::{${kind}${name ? `:${name}` : ""}#${disambiguation}}`;
          }
          return name ? `${parent}::${name}` : parent;
        }
        case "M": {
          disambiguator();
          path();
          return `<${type()}>`;
        }
        case "X": {
          disambiguator();
          path();
          const self = type();
          return `<${self} as ${path()}>`;
        }
        case "Y": {
          const self = type();
          return `<${self} as ${path()}>`;
        }
        case "I": {
          const base = path(isValue);
          const args: string[] = [];
          while (!eat("E")) args.push(genericArg());
          return `${base}${isValue ? "::" : ""}<${args.join(", ")}>`;
        }
        case "B":
          return backref(() => path(isValue));
        default:
          throw new Failure();
      }
    } finally {
      depth--;
    }
  };
  const identifierAfterDisambiguator = (): string => {
    const isPunycode = eat("u");
    const length = decimal();
    eat("_");
    if (position + length > input.length || isPunycode) throw new Failure();
    const text = input.slice(position, position + length);
    position += length;
    return text;
  };
  const genericArg = (): string => {
    if (eat("L")) {
      base62();
      return "'_";
    }
    if (eat("K")) return constant();
    return type();
  };
  const constant = (): string => {
    if (eat("B")) return backref(constant);
    if (eat("p")) return "_";
    const typeTag = next();
    if (!(typeTag in BASIC)) throw new Failure();
    const isNegative = eat("n");
    const begin = position;
    while (/[0-9a-f]/.test(peek() ?? "")) position++;
    const hex = input.slice(begin, position);
    if (!eat("_")) throw new Failure();
    if (typeTag === "b") return hex === "1" ? "true" : "false";
    return (isNegative ? "-" : "") + (hex ? BigInt("0x" + hex).toString() : "0");
  };
  const binder = () => {
    if (eat("G")) base62();
  };
  const type = (): string => {
    guard();
    try {
      const tag = peek();
      if (tag !== undefined && tag in BASIC) {
        position++;
        return BASIC[tag];
      }
      switch (tag) {
        case "A": {
          position++;
          const element = type();
          return `[${element}; ${constant()}]`;
        }
        case "S":
          position++;
          return `[${type()}]`;
        case "T": {
          position++;
          const items: string[] = [];
          while (!eat("E")) items.push(type());
          return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
        }
        case "R":
        case "Q": {
          position++;
          if (eat("L")) base62();
          return `&${tag === "Q" ? "mut " : ""}${type()}`;
        }
        case "P":
        case "O":
          position++;
          return `*${tag === "P" ? "const" : "mut"} ${type()}`;
        case "F": {
          position++;
          binder();
          const isUnsafe = eat("U");
          if (eat("K")) {
            if (!eat("C")) identifierAfterDisambiguator();
          }
          const params: string[] = [];
          while (!eat("E")) params.push(type());
          const result = type();
          return `${isUnsafe ? "unsafe " : ""}fn(${params.join(", ")})${
            result === "()" ? "" : ` -> ${result}`
          }`;
        }
        case "D": {
          position++;
          binder();
          const traits: string[] = [];
          while (!eat("E")) {
            let trait = path();
            while (eat("p")) {
              const name = identifierAfterDisambiguator();
              trait += `<${name} = ${type()}>`;
            }
            traits.push(trait);
          }
          if (!eat("L")) throw new Failure();
          base62();
          return `dyn ${traits.join(" + ")}`;
        }
        case "B":
          position++;
          return backref(type);
        default:
          return path();
      }
    } finally {
      depth--;
    }
  };

  try {
    if (peek() >= "0" && peek() <= "9") decimal(); // Encoding version.
    return path(true);
  } catch {
    return undefined;
  }
}

/**
 * Legacy scheme: `_ZN` length-prefixed parts `E`, the last a `h<16 hex>`
 * hash that is dropped, with `$LT$`-style escapes.
 */
export function demangleLegacy(name: string): string | undefined {
  const body = name.startsWith("_ZN") ? name.slice(3) : name.startsWith("__ZN") ? name.slice(4) : undefined;
  if (body === undefined) return undefined;
  const parts: string[] = [];
  let index = 0;
  while (index < body.length && body[index] !== "E") {
    let digits = "";
    while (index < body.length && body[index] >= "0" && body[index] <= "9") digits += body[index++];
    if (!digits) return undefined;
    const length = Number(digits);
    if (length === 0 || index + length > body.length) return undefined;
    parts.push(body.slice(index, index + length));
    index += length;
  }
  if (body[index] !== "E" || parts.length === 0) return undefined;
  if (/^h[0-9a-f]{16}$/.test(parts[parts.length - 1])) parts.pop();
  const escapes: Record<string, string> = {
    "$SP$": "@",
    "$BP$": "*",
    "$RF$": "&",
    "$LT$": "<",
    "$GT$": ">",
    "$LP$": "(",
    "$RP$": ")",
    "$C$": ",",
  };
  return parts.map((part) => {
    let text = part.startsWith("_$") ? part.slice(1) : part;
    text = text.replace(/\$(SP|BP|RF|LT|GT|LP|RP|C)\$/g, (escape) => escapes[escape]);
    text = text.replace(/\$u([0-9a-f]{1,6})\$/g, (_, hex) => String.fromCodePoint(parseInt(hex, 16)));
    return text.replace(/\.\./g, "::");
  }).join("::");
}

/** Demangles a Rust symbol of either scheme, or returns it unchanged. */
export function demangle(name: string): string {
  return demangleV0(name) ?? demangleLegacy(name) ?? name;
}
