/**
 * The one place the runtime imports TensorFlow.js. The pure-JS CPU backend is always
 * registered; faster backends are added by `backend` when present.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
// tfjs-core alone registers no gradients; the umbrella package would import this for us.
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";
import { installFrugalGradients } from "../frugal-gradients.js";

// Production mode: tfjs then skips its console hints (e.g. to install tfjs-node, which the
// backend selection of bdl reports itself) and debug-only checks.
tf.env().set("PROD", true);

// Backpropagation that frees each backward tensor once used (the same gradients, bit for bit).
installFrugalGradients();

export { tf };
export type Tensor = tf.Tensor;
export type Tensor1D = tf.Tensor1D;
export type Tensor2D = tf.Tensor2D;
export type Tensor3D = tf.Tensor3D;
export type Tensor4D = tf.Tensor4D;
export type Scalar = tf.Scalar;
