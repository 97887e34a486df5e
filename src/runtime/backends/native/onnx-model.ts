/**
 * Just enough of the ONNX protobuf format to write a one-graph model: the native products
 * are tiny graphs (one or two nodes, symbolic dimensions) built at run time, so writing
 * their bytes directly beats depending on a protobuf library and a model file on disk.
 * Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, …).
 */

type Bytes = number[];

function varint(value: number): Bytes {
  const out: Bytes = [];
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n; // int64 fields are two's complement on the wire
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const VARINT = 0;
const LENGTH_DELIMITED = 2;

function tag(field: number, wire: number): Bytes {
  return varint((field << 3) | wire);
}

function int(field: number, value: number): Bytes {
  return [...tag(field, VARINT), ...varint(value)];
}

function bytes(field: number, payload: Bytes): Bytes {
  return [...tag(field, LENGTH_DELIMITED), ...varint(payload.length), ...payload];
}

function text(field: number, value: string): Bytes {
  return bytes(field, [...new TextEncoder().encode(value)]);
}

function message(field: number, parts: Bytes[]): Bytes {
  return bytes(field, parts.flat());
}

/** TensorProto.DataType */
const FLOAT = 1;
/** AttributeProto.AttributeType */
const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;

export type Attribute = { name: string } & ({ int: number } | { float: number } | { ints: number[] });

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Attribute[];
  /** "" for the standard operators, "com.microsoft" for onnxruntime's contrib operators. */
  domain?: string;
}

/** A float32 graph input or output; a string dimension is symbolic (any size). */
export interface ValueSpec {
  name: string;
  dims: (number | string)[];
}

export interface GraphSpec {
  /** The standard operator set the nodes are read against (default 17). */
  opset?: number;
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
}

function attribute(a: Attribute): Bytes {
  if ("int" in a) return message(5, [text(1, a.name), int(3, a.int), int(20, ATTRIBUTE_INT)]);
  if ("float" in a) {
    const f = new Uint8Array(new Float32Array([a.float]).buffer);
    return message(5, [text(1, a.name), [...tag(2, 5), ...f], int(20, ATTRIBUTE_FLOAT)]);
  }
  return message(5, [text(1, a.name), ...a.ints.map((v) => int(8, v)), int(20, ATTRIBUTE_INTS)]);
}

function node(n: NodeSpec): Bytes {
  return message(1, [
    ...n.inputs.map((name) => text(1, name)),
    ...n.outputs.map((name) => text(2, name)),
    text(4, n.op),
    ...(n.attributes ?? []).map(attribute),
    ...(n.domain ? [text(7, n.domain)] : []),
  ]);
}

function valueInfo(field: number, v: ValueSpec): Bytes {
  const dims = v.dims.map((d) => message(1, [typeof d === "number" ? int(1, d) : text(2, d)]));
  // ValueInfoProto { name, type: TypeProto { tensor_type: { elem_type, shape { dim* } } } }
  return message(field, [text(1, v.name), message(2, [message(1, [int(1, FLOAT), message(2, dims)])])]);
}

const IR_VERSION = 8;
const OPSET = 17;
const CONTRIB_OPSET = 1;

/** The serialized ModelProto of one graph over float32 values. */
export function onnxModel(graph: GraphSpec): Uint8Array {
  const graphParts = [
    ...graph.nodes.map(node),
    text(2, "bdl"),
    ...graph.inputs.map((v) => valueInfo(11, v)),
    ...graph.outputs.map((v) => valueInfo(12, v)),
  ];
  return Uint8Array.from([
    ...int(1, IR_VERSION),
    ...message(8, [text(1, ""), int(2, graph.opset ?? OPSET)]),
    ...message(8, [text(1, "com.microsoft"), int(2, CONTRIB_OPSET)]),
    ...text(2, "bdl"),
    ...message(7, graphParts),
  ]);
}
