// Replays an LDES with the ldes-client library and prints every member's quads as strict
// N-Quads (the package's CLI prints Turtle-style shorthand literals in quad lines, which no
// N-Quads parser reads). Usage: node replay.mjs URL [AFTER_ISO_DATETIME]
import { replicateLDES, intoConfig } from "ldes-client";
import { Writer } from "n3";

const [url, after] = process.argv.slice(2);
const client = replicateLDES(intoConfig({ url, after: after ? new Date(after) : undefined }));
const writer = new Writer({ format: "N-Quads" });
const reader = client.stream({ highWaterMark: 10 }).getReader();
for (let r = await reader.read(); !r.done; r = await reader.read()) {
  if (r.value) process.stdout.write(writer.quadsToString(r.value.quads));
}
