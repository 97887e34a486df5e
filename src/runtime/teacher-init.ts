/**
 * Teacher links: a student starts from its teacher's weights where the `.bdl` says so.
 * `init layers [0, 2, 4, 7, 9, 11]`: student layer i takes teacher layer list[i]'s
 * attention and feed-forward sublayers. `init embeddings`: the word and position
 * embeddings (the rows the student has) and their LayerNorm. Everything else keeps its
 * own initial value — including the cosine projection a student of another width gets.
 */
import { SHARED_PARTS, type ResolvedModel } from "../model/model.js";
import type { WeightMap } from "./checkpoint/hf-weights.js";
import { ownerOf } from "../model/parameters.js";

const SUBLAYER_TENSORS = {
  attention: [
    "query.kernel",
    "query.bias",
    "key.kernel",
    "key.bias",
    "value.kernel",
    "value.bias",
    "output.kernel",
    "output.bias",
    "norm.weight",
    "norm.bias",
  ],
  ffn: ["intermediate.kernel", "intermediate.bias", "output.kernel", "output.bias", "norm.weight", "norm.bias"],
} as const;

export class TeacherInitError extends Error {}

/** A copy of `student` with the tensors the link names taken from `teacherWeights`. */
export function initFromTeacher(
  student: ResolvedModel,
  studentWeights: WeightMap,
  teacher: ResolvedModel,
  teacherWeights: WeightMap,
): WeightMap {
  const link = student.teacher;
  const out: WeightMap = new Map([...studentWeights].map(([k, w]) => [k, { shape: [...w.shape], values: w.values.slice() }]));
  if (!link) return out;
  const copy = (from: string, to: string, rows?: number) => {
    // A bias that neither model has (both with `attention_bias false`, say) is nothing to copy.
    if (!teacherWeights.has(from) && !out.has(to) && from.endsWith(".bias")) return;
    const source = teacherWeights.get(from);
    const target = out.get(to);
    if (!source || !target) throw new TeacherInitError(`cannot copy teacher '${from}' to student '${to}': no such tensor`);
    const width = target.shape.slice(1).reduce((a, b) => a * b, 1);
    const count = rows === undefined ? target.values.length : rows * width;
    if (source.values.length < count || source.shape.slice(1).join() !== target.shape.slice(1).join()) {
      throw new TeacherInitError(`teacher '${from}' [${source.shape}] does not fit student '${to}' [${target.shape}]`);
    }
    target.values.set(source.values.subarray(0, count));
  };
  if (link.initLayers) {
    link.initLayers.forEach((teacherLayer, studentLayer) => {
      for (const part of SHARED_PARTS) {
        const from = ownerOf(teacher, teacherLayer, part);
        const to = ownerOf(student, studentLayer, part);
        for (const t of SUBLAYER_TENSORS[part]) copy(`${from}.${part}.${t}`, `${to}.${part}.${t}`);
      }
    });
  }
  if (link.initEmbeddings) {
    copy("embeddings.word", "embeddings.word");
    // The student may have fewer positions than its teacher: copy the rows it has.
    copy("embeddings.position", "embeddings.position", out.get("embeddings.position")!.shape[0]);
    copy("embeddings.norm.weight", "embeddings.norm.weight");
    copy("embeddings.norm.bias", "embeddings.norm.bias");
  }
  return out;
}
