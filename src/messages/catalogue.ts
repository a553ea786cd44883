/**
 * The catalogue of ROS 2 message definitions syncbag knows: the common ROS 2 Jazzy
 * definitions shipped by @foxglove/rosmsg-msgs-common, plus this package's msg/*.msg,
 * plus whatever a caller adds (definitions read from a recording or from --msg-path).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MessageDefinition } from "@foxglove/message-definition";
import { parse } from "@foxglove/rosmsg";
import { ros2jazzy } from "@foxglove/rosmsg-msgs-common";
import { foxgloveMsgTexts } from "./foxglove-msgs.js";
import { concatenateDefinitions, definitionText, dependencyNames, SCHEMA_SEPARATOR, splitConcatenated } from "./ros2msg.js";

export const PACKAGE_NAME = "syncbag";

/** `pkg/msg/Type` → `pkg/Type`; other names unchanged. */
export function normalizeTypeName(type: string): string {
  const parts = type.split("/");
  return parts.length === 3 && parts[1] === "msg" ? `${parts[0]}/${parts[2]}` : type;
}

/** The folder holding package.json of syncbag, found from this module (works from src/ and dist/src/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string };
      if (pkg.name === PACKAGE_NAME) return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("syncbag package root not found above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export class UnknownMessageTypeError extends Error {
  constructor(readonly type: string, readonly missing: string = type) {
    super(missing === type ? `unknown message type '${type}'` : `message type '${type}' depends on unknown type '${missing}'`);
    this.name = "UnknownMessageTypeError";
  }
}

export class MessageCatalogue {
  readonly #definitions = new Map<string, MessageDefinition>();
  /** Source .msg texts (comments kept) of types added from text; others are rendered from their definition. */
  readonly #texts = new Map<string, string>();
  /** Types whose definition is the common Jazzy one, so their source text can be read from the package (lazily). */
  readonly #common = new Set<string>();

  /** Common ROS 2 definitions, this package's msg/ and the foxglove_msgs overlays syncbag records. */
  static standard(): MessageCatalogue {
    const catalogue = new MessageCatalogue();
    for (const [name, definition] of Object.entries(ros2jazzy)) {
      catalogue.#definitions.set(name, { name, definitions: (definition as MessageDefinition).definitions });
      catalogue.#common.add(name);
    }
    catalogue.addMsgFolder(join(packageRoot(), "msg"), PACKAGE_NAME);
    for (const [type, text] of foxgloveMsgTexts()) catalogue.addMsgText(type, text);
    return catalogue;
  }

  /** Adds every `*.msg` of a folder as `<pkg>/<File>`. */
  addMsgFolder(folder: string, pkg: string): void {
    for (const file of readdirSync(folder).filter((f) => f.endsWith(".msg")).sort()) {
      this.addMsgText(`${pkg}/${file.slice(0, -4)}`, readFileSync(join(folder, file), "utf8"));
    }
  }

  /** Adds one ROS 2 .msg text under a full type name. Field types are qualified relative to its package. */
  addMsgText(type: string, text: string): void {
    const name = normalizeTypeName(type);
    const pkg = name.split("/")[0]!;
    const [root] = parse(text, { ros2: true, skipTypeFixup: true });
    if (root === undefined) throw new Error(`no definition parsed for '${name}'`);
    const fields = root.definitions.map((field) => {
      if (!field.isComplex) return field;
      const qualified = field.type.includes("/") ? normalizeTypeName(field.type) : field.type === "Header" ? "std_msgs/Header" : `${pkg}/${field.type}`;
      return { ...field, type: qualified };
    });
    this.#definitions.set(name, { name, definitions: fields });
    this.#texts.set(name, text.endsWith("\n") ? text : text + "\n");
    this.#common.delete(name);
  }

  /**
   * Adds every type of a complete ros2msg definition (an MCAP schema's data or a rosbag2
   * `message_definition`): `type` is the root's name. Lets a converter decode types syncbag does not ship.
   */
  addSchemaText(type: string, text: string): void {
    // All sections parse, or none is added: a bad schema leaves the catalogue as it was.
    const staged = new MessageCatalogue();
    for (const [name, section] of splitConcatenated(normalizeTypeName(type), text)) staged.addMsgText(name, section);
    for (const [name, definition] of staged.#definitions) {
      this.#definitions.set(name, definition);
      this.#texts.set(name, staged.#texts.get(name)!);
      this.#common.delete(name);
    }
  }

  /** A catalogue of only what one complete ros2msg definition holds. */
  static fromSchemaText(type: string, text: string): MessageCatalogue {
    const catalogue = new MessageCatalogue();
    catalogue.addSchemaText(type, text);
    return catalogue;
  }

  /**
   * The complete ros2msg definition of a type as rosbag2's MCAP storage writes a schema's data:
   * the type's text, then for each dependency a line of 80 '=', `MSG: pkg/Type` and its text.
   * Every text is the .msg source with its comments: this package's msg/, texts added from a
   * recording, and the Jazzy .msg files @foxglove/rosmsg-msgs-common ships for the common types.
   * Only definitions added already parsed (addDefinitions) are rendered field by field.
   * Throws UnknownMessageTypeError.
   */
  schemaText(type: string): string {
    const root = normalizeTypeName(type);
    this.closure(root); // every dependency known, or UnknownMessageTypeError naming it
    return concatenateDefinitions(root, {
      text: (name) => this.#sourceText(name) ?? definitionText(this.get(name)),
      dependencies: (name) => dependencyNames(this.get(name), normalizeTypeName),
    });
  }

  #sourceText(name: string): string | undefined {
    const known = this.#texts.get(name);
    if (known !== undefined || !this.#common.has(name)) return known;
    const text = commonMsgText(name);
    if (text !== undefined) this.#texts.set(name, text);
    else this.#common.delete(name); // not shipped: render it from the definition from now on
    return text;
  }

  /** Adds already-parsed definitions (named), e.g. from a recording's schema. */
  addDefinitions(definitions: readonly MessageDefinition[]): void {
    for (const definition of definitions) {
      if (definition.name === undefined) continue;
      const name = normalizeTypeName(definition.name);
      this.#definitions.set(name, definition);
      this.#texts.delete(name);
      this.#common.delete(name);
    }
  }

  has(type: string): boolean {
    return this.#definitions.has(normalizeTypeName(type));
  }

  types(): string[] {
    return [...this.#definitions.keys()].sort();
  }

  /** The definition of one type. */
  get(type: string): MessageDefinition {
    const definition = this.#definitions.get(normalizeTypeName(type));
    if (definition === undefined) throw new UnknownMessageTypeError(type);
    return definition;
  }

  /** The type first, then every type it depends on (depth-first, each once): what a CDR reader needs. */
  closure(type: string): MessageDefinition[] {
    const root = normalizeTypeName(type);
    const out: MessageDefinition[] = [];
    const seen = new Set<string>();
    const visit = (name: string): void => {
      if (seen.has(name)) return;
      seen.add(name);
      const definition = this.#definitions.get(name);
      if (definition === undefined) throw new UnknownMessageTypeError(root, name);
      out.push(definition);
      for (const field of definition.definitions) {
        if (field.isComplex && !field.isConstant) visit(normalizeTypeName(field.type));
      }
    };
    visit(root);
    return out;
  }
}

/**
 * The Jazzy .msg source of a common type, from the `msgdefs/ros2jazzy/<pkg>/msg/<Type>.msg` files
 * @foxglove/rosmsg-msgs-common ships. Each holds the type's own text followed by its dependencies
 * (gendeps2 layout: text, a blank line, then 80 '=' sections); only the own text is taken. Checked
 * against ros2/common_interfaces@jazzy: identical for 118 of 121 files, the others differ only by
 * trailing spaces the package trimmed. Undefined if the file is not there.
 */
export function commonMsgText(type: string): string | undefined {
  const [pkg, name] = normalizeTypeName(type).split("/");
  if (pkg === undefined || name === undefined || !/^\w+$/.test(pkg) || !/^\w+$/.test(name)) return undefined;
  let file: string;
  try {
    const root = dirname(createRequire(import.meta.url).resolve("@foxglove/rosmsg-msgs-common/package.json"));
    file = readFileSync(join(root, "msgdefs", "ros2jazzy", pkg, "msg", `${name}.msg`), "utf8");
  } catch {
    return undefined;
  }
  const separator = file.indexOf(`\n${SCHEMA_SEPARATOR}\n`);
  let text = separator >= 0 ? file.slice(0, separator) : file.endsWith("\n\n") ? file.slice(0, -1) : file;
  if (!text.endsWith("\n")) text += "\n";
  return text;
}

let standardCatalogue: MessageCatalogue | undefined;
/** The shared standard catalogue (built once). */
export function defaultCatalogue(): MessageCatalogue {
  standardCatalogue ??= MessageCatalogue.standard();
  return standardCatalogue;
}

/** The complete ros2msg definition (MCAP schema data) of a type; see MessageCatalogue.schemaText. */
export function schemaText(type: string, catalogue: MessageCatalogue = defaultCatalogue()): string {
  return catalogue.schemaText(type);
}
