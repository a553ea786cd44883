import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { MessageDefinition } from "@foxglove/message-definition";
import { parse } from "@foxglove/rosmsg";
import { defaultCatalogue, MessageCatalogue, normalizeTypeName, packageRoot, schemaText, UnknownMessageTypeError } from "../../src/messages/catalogue.js";
import { MessageCodec } from "../../src/messages/codec.js";
import { encodeWithKind, EncapsulationKind, sampleMessages } from "./fixtures.js";

const catalogue = defaultCatalogue();
const SEPARATOR = "=".repeat(80);

/** Section names of a complete definition, in order (root first, as ""). */
function sectionNames(text: string): string[] {
  return ["", ...[...text.matchAll(/^MSG: (\S+)$/gm)].map((m) => m[1]!)];
}

/** Fields without their undefined properties (the parser spells absent ones out, the catalogue omits them). */
function clean(fields: MessageDefinition["definitions"]): MessageDefinition["definitions"] {
  return fields.map((f) => Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as (typeof fields)[number]);
}

/** What the parsed text should give back for one catalogue type: its fields (time fields as the `time` primitive). */
function expected(type: string): MessageDefinition["definitions"] {
  return clean(catalogue.get(type).definitions).map((f) => (f.isComplex === true && ["builtin_interfaces/Time", "builtin_interfaces/Duration"].includes(f.type) ? { ...f, type: f.type === "builtin_interfaces/Time" ? "time" : "duration", isComplex: false } : f));
}

describe("messages/schemaText: complete ros2msg definitions", () => {
  it("is byte for byte what rosbag2 (Jazzy) writes as MCAP schema data, comments included", () => {
    // Golden texts made by golden/rosbag2_full_text.py (a port of rosbag2's get_full_text) from the
    // upstream Jazzy .msg files; the catalogue builds its own from @foxglove/rosmsg-msgs-common's copies.
    const golden = JSON.parse(readFileSync(join(import.meta.dirname, "golden", "rosbag2-jazzy.json"), "utf8")) as Record<string, string>;
    assert.ok(Object.keys(golden).length >= 9);
    for (const [type, text] of Object.entries(golden)) assert.equal(schemaText(type), text, type);
  });

  it("lays out NavSatFix as rosbag2 does: root text, then each dependency after 80 '=' and MSG:", () => {
    const text = schemaText("sensor_msgs/msg/NavSatFix");
    assert.ok(text.startsWith("# Navigation Satellite fix for any Global Navigation Satellite System\n"));
    // Dependencies sorted by name within each definition, depth first, each once:
    // NavSatFix → {sensor_msgs/NavSatStatus, std_msgs/Header}; Header → {builtin_interfaces/Time}.
    assert.deepEqual(sectionNames(text), ["", "sensor_msgs/NavSatStatus", "std_msgs/Header", "builtin_interfaces/Time"]);
    assert.match(text, new RegExp(`uint8 position_covariance_type\\n\\n${SEPARATOR}\\nMSG: sensor_msgs/NavSatStatus\\n# Navigation Satellite fix status`));
    assert.match(text, /\nMSG: builtin_interfaces\/Time\n(#.*\n|\n)*int32 sec\n(#.*\n|\n)*uint32 nanosec\n$/);
    for (const line of text.split("\n").filter((l) => l.startsWith("="))) assert.equal(line, SEPARATOR);
  });

  it("renders a common type field by field when its .msg source is not shipped (definition replaced)", () => {
    const custom = MessageCatalogue.standard();
    custom.addDefinitions([{ name: "sensor_msgs/NavSatStatus", definitions: catalogue.get("sensor_msgs/NavSatStatus").definitions }]);
    const text = custom.schemaText("sensor_msgs/NavSatFix");
    assert.ok(text.includes(`\n${SEPARATOR}\nMSG: sensor_msgs/NavSatStatus\nint8 STATUS_UNKNOWN=-2\n`));
    assert.ok(text.startsWith("# Navigation Satellite fix"), "the root keeps its source text");
  });

  it("keeps this package's msg/ files verbatim, comments included", () => {
    const text = schemaText("syncbag/AlignedFrame");
    const own = readFileSync(join(packageRoot(), "msg", "AlignedFrame.msg"), "utf8");
    const sample = readFileSync(join(packageRoot(), "msg", "AlignedSample.msg"), "utf8");
    assert.ok(text.startsWith(own));
    assert.ok(text.includes(`${SEPARATOR}\nMSG: syncbag/AlignedSample\n${sample}`));
    assert.deepEqual(sectionNames(text), ["", "std_msgs/Header", "builtin_interfaces/Time", "syncbag/AlignedSample"]);
  });

  it("visits a dependency shared by several types only once (Odometry)", () => {
    const names = sectionNames(schemaText("nav_msgs/Odometry"));
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual(names.slice(1).sort(), ["builtin_interfaces/Time", "geometry_msgs/Point", "geometry_msgs/Pose", "geometry_msgs/PoseWithCovariance", "geometry_msgs/Quaternion", "geometry_msgs/Twist", "geometry_msgs/TwistWithCovariance", "geometry_msgs/Vector3", "std_msgs/Header"]);
    // Depth first: Pose's own dependencies come right after it.
    const at = names.indexOf("geometry_msgs/Pose");
    assert.deepEqual(names.slice(at, at + 3), ["geometry_msgs/Pose", "geometry_msgs/Point", "geometry_msgs/Quaternion"]);
  });

  it("parses back (@foxglove/rosmsg, ros2) into the catalogue's definitions, for every catalogue type", () => {
    for (const type of catalogue.types()) {
      const parsed = parse(schemaText(type), { ros2: true });
      assert.deepStrictEqual(clean(parsed[0]!.definitions), expected(type), type);
      const names = sectionNames(schemaText(type));
      assert.equal(parsed.length, names.length, type);
      for (const definition of parsed.slice(1)) {
        assert.deepStrictEqual(clean(definition.definitions), expected(normalizeTypeName(definition.name!)), `${type} → ${definition.name}`);
      }
    }
  });

  it("is the same through the free function, the method and pkg/msg/Type spellings", () => {
    assert.equal(schemaText("sensor_msgs/msg/Imu"), catalogue.schemaText("sensor_msgs/Imu"));
    assert.equal(schemaText("sensor_msgs/Imu", catalogue), catalogue.schemaText("sensor_msgs/msg/Imu"));
  });

  it("throws UnknownMessageTypeError naming a missing type or dependency", () => {
    assert.throws(() => schemaText("acme_msgs/Radar"), UnknownMessageTypeError);
    const partial = new MessageCatalogue();
    partial.addMsgText("acme_msgs/Track", "# a track\nacme_msgs/Box box\n");
    assert.throws(() => partial.schemaText("acme_msgs/Track"), (e: unknown) => e instanceof UnknownMessageTypeError && e.missing === "acme_msgs/Box");
  });

  it("builds a catalogue from a recording's schema text that decodes what the standard one encodes", () => {
    for (const { type, message } of sampleMessages()) {
      const recorded = MessageCatalogue.fromSchemaText(type.replace("/", "/msg/"), schemaText(type));
      const bytes = encodeWithKind(catalogue, type, message, EncapsulationKind.CDR_LE);
      assert.deepStrictEqual(new MessageCodec(recorded).decode(type, bytes), message, type);
      // …and writes the same schema text back (comments of msg/ types included).
      assert.equal(recorded.schemaText(type), schemaText(type), type);
    }
  });

  it("adds a recording's schema all or nothing", () => {
    const recorded = MessageCatalogue.fromSchemaText("acme_msgs/Sonar", "float32 range\n");
    // The root section parses; the second does not (a field without a name).
    const broken = `acme_msgs/Echo echo\nfloat32 range_v2\n\n${SEPARATOR}\nMSG: acme_msgs/Echo\nfloat32\n`;
    assert.throws(() => recorded.addSchemaText("acme_msgs/Sonar", broken));
    assert.deepEqual(recorded.types(), ["acme_msgs/Sonar"]);
    assert.equal(recorded.schemaText("acme_msgs/Sonar"), "float32 range\n");
  });

  it("reads schema text with CRLF line ends and pkg/msg/Type section names", () => {
    const text = ["# sonar", "std_msgs/Header header", "float32 range", SEPARATOR, "MSG: std_msgs/msg/Header", "builtin_interfaces/Time stamp", "string frame_id", SEPARATOR, "MSG: builtin_interfaces/msg/Time", "int32 sec", "uint32 nanosec", ""].join("\r\n");
    const recorded = MessageCatalogue.fromSchemaText("acme_msgs/msg/Sonar", text);
    assert.deepEqual(recorded.types(), ["acme_msgs/Sonar", "builtin_interfaces/Time", "std_msgs/Header"]);
    assert.ok(recorded.schemaText("acme_msgs/Sonar").startsWith("# sonar\nstd_msgs/Header header\nfloat32 range\n\n"));
  });

  it("renders bounded strings and arrays, defaults and constants so that they parse back", () => {
    const custom = new MessageCatalogue();
    custom.addDefinitions([
      {
        name: "acme_msgs/Limits",
        definitions: [
          { name: "MAX", type: "int32", isConstant: true, value: 5, valueText: "5" },
          { name: "NAME", type: "string", isConstant: true, value: "radar", valueText: "radar" },
          { name: "label", type: "string", isComplex: false, isArray: false, upperBound: 16 },
          { name: "tags", type: "string", isComplex: false, isArray: true, arrayUpperBound: 4, upperBound: 8 },
          { name: "gains", type: "float64", isComplex: false, isArray: true, arrayLength: 3 },
          { name: "mode", type: "uint8", isComplex: false, isArray: false, defaultValue: 2 },
          { name: "unit", type: "string", isComplex: false, isArray: false, defaultValue: "m s" },
          { name: "weights", type: "int16", isComplex: false, isArray: true, defaultValue: [1, -2, 3] },
        ],
      },
    ]);
    const text = custom.schemaText("acme_msgs/Limits");
    assert.match(text, /^string<=16 label$/m);
    assert.match(text, /^string<=8\[<=4\] tags$/m);
    assert.match(text, /^float64\[3\] gains$/m);
    assert.deepStrictEqual(clean(parse(text, { ros2: true })[0]!.definitions), clean(custom.get("acme_msgs/Limits").definitions));
  });
});
