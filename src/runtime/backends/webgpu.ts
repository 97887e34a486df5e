/**
 * The `webgpu` backend: @tensorflow/tfjs-backend-webgpu on Dawn's Node binding (the npm package
 * `webgpu`). Both are optional dependencies, loaded only when this backend is asked for.
 *
 * Dawn picks its platform's native API first (Vulkan, Metal, D3D12). On a Linux machine without a
 * GPU it falls back to OpenGL ES in WebGPU's compatibility mode, which Mesa's llvmpipe implements
 * on the CPU — correct, but no faster than the CPU backends, so `webgpuAdapterKind` tells callers
 * which of the two they got.
 *
 * Two things the browser gives tfjs-backend-webgpu are missing in Node and are supplied here:
 * - a synchronous readback (`dataSync`, which the training step uses for its loss, the gradient
 *   norm and the MLM positions): the browser path draws through an OffscreenCanvas. Here the
 *   copy is mapped as usual and Dawn's event processing is run by hand until the map completes
 *   (see `captureDawnTicks`).
 * - the device itself: created here with every limit the adapter offers, because compatibility
 *   mode otherwise grants fewer storage buffers per shader than tfjs's kernels bind.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join } from "node:path";
import { pathToFileURL } from "node:url";
import { BackendError } from "./backend-error.js";
import { registerWebgpuAddN } from "./kernels/webgpu-add-n.js";
import { tf } from "./tf.js";

const require = createRequire(import.meta.url);

const INSTALL = "npm install webgpu @tensorflow/tfjs-backend-webgpu";
/** Mesa's EGL and OpenGL ES (llvmpipe) on Debian/Ubuntu: what Dawn needs to run on a machine without a GPU. */
const APT_PACKAGES = "libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri";
/** Adapters that are a rasterizer running on the CPU rather than a GPU. */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|softpipe|swiftshader|basic render driver|\bwarp\b/i;

// The WebGPU objects this module touches, narrowed to what it uses: the full types (@webgpu/types)
// come only with the optional packages.
interface GpuBuffer {
  readonly size: number;
  readonly mapState: "unmapped" | "pending" | "mapped";
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}
interface GpuAdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter?: boolean;
}
interface GpuDevice {
  addEventListener(type: "uncapturederror", listener: (event: { error: { message: string } }) => void): void;
}
interface GpuAdapter {
  readonly info: GpuAdapterInfo;
  readonly limits: Record<string, number>;
  requestDevice(descriptor: { requiredLimits: Record<string, number> }): Promise<GpuDevice>;
}
interface Gpu {
  requestAdapter(options?: { powerPreference?: "high-performance"; featureLevel?: "compatibility" }): Promise<GpuAdapter | null>;
}
interface Dawn {
  create(options: string[]): Gpu;
  globals: Record<string, unknown>;
}

/** The parts of tfjs-backend-webgpu's WebGPUBackend that the synchronous readback drives (all public in its build). */
interface TensorData {
  dtype: tf.DataType;
  values: tf.BackendValues | null;
  resource: unknown;
  complexTensorInfos?: { real: tf.TensorInfo; imag: tf.TensorInfo } | null;
}
interface WebGPUBackendInternals {
  tensorMap: { get(dataId: tf.DataId): TensorData };
  bufferManager: { acquireBuffer(size: number, usage: number): GpuBuffer; releaseBuffer(buffer: GpuBuffer): void };
  commandEncoder: { copyBufferToBuffer(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, size: number): void } | null;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  convertAndCacheOnCPU(dataId: tf.DataId, values: tf.BackendValues): tf.BackendValues;
}
type WebGPUBackendClass = new (device: GpuDevice, adapterInfo: GpuAdapterInfo) => tf.KernelBackend;

export type WebgpuAdapterKind = "gpu" | "cpu";

export interface WebgpuAdapter {
  /** `cpu`: a software rasterizer (llvmpipe, SwiftShader, WARP), no faster than the CPU backends. */
  kind: WebgpuAdapterKind;
  /** `native`: Dawn's default API for the platform; `opengles`: the compatibility-mode fallback. */
  api: "native" | "opengles";
  description: string;
}

let adapter: WebgpuAdapter | null = null;
let registering: Promise<void> | null = null;

/** The adapter behind the registered `webgpu` backend; null until `registerWebgpu` has succeeded. */
export function webgpuAdapter(): WebgpuAdapter | null {
  return adapter;
}

/** `gpu` or `cpu` (a software adapter), or null until `registerWebgpu` has succeeded. `auto` should want `gpu`. */
export function webgpuAdapterKind(): WebgpuAdapterKind | null {
  return adapter?.kind ?? null;
}

/**
 * Makes the tfjs backend "webgpu" available (it is not made active: `tf.setBackend("webgpu")`).
 * The adapter and device are opened here, so a machine that cannot run it fails with a
 * BackendError naming what to install rather than later inside tf.setBackend.
 */
export function registerWebgpu(): Promise<void> {
  registering ??= register().catch((e: unknown) => {
    registering = null;
    throw e;
  });
  return registering;
}

async function register(): Promise<void> {
  const dawn = await loadDawn();
  // Imported before navigator.gpu exists, so the package's own registration (which opens the
  // default adapter and has no synchronous readback in Node) stays off: ours replaces it.
  let WebGPUBackend: WebGPUBackendClass;
  try {
    ({ WebGPUBackend } = (await import("@tensorflow/tfjs-backend-webgpu")) as unknown as { WebGPUBackend: WebGPUBackendClass });
  } catch (e) {
    throw new BackendError(`the webgpu backend needs @tensorflow/tfjs-backend-webgpu (${(e as Error).message}): ${INSTALL}`);
  }
  // GPUBufferUsage, GPUMapMode, GPUBuffer (for instanceof) and the rest, which tfjs reads as globals.
  for (const [name, value] of Object.entries(dawn.globals)) if (!(name in globalThis)) Object.assign(globalThis, { [name]: value });
  captureDawnTicks();

  const opened = await openAdapter(dawn);
  const { gpu, api } = opened;
  const info = opened.adapter.info;
  // Every limit the adapter has: compatibility mode otherwise grants 4 storage buffers per shader stage, fewer than tfjs's kernels bind.
  const requiredLimits: Record<string, number> = {};
  for (const name in opened.adapter.limits) {
    const value = opened.adapter.limits[name];
    if (typeof value === "number") requiredLimits[name] = value;
  }
  const device = await opened.adapter.requestDevice({ requiredLimits });
  // A shader that fails to compile (e.g. a feature compatibility mode lacks) would otherwise only
  // leave a tensor unwritten; the first such error is raised by the next read.
  device.addEventListener("uncapturederror", (event) => {
    deviceError ??= event.error.message;
  });

  // tfjs's WebGPUBackend refuses to start without navigator.gpu. Holding the instance there also
  // keeps Dawn alive for the process (it is torn down when its last reference goes).
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, "gpu", { value: gpu, configurable: true, writable: true });
  else Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true, writable: true });

  registerWebgpuAddN();
  const NodeWebGPUBackend = withSyncRead(WebGPUBackend);
  if (tf.findBackendFactory("webgpu")) tf.removeBackend("webgpu");
  // Priority 0: registering it never makes it the default; the caller chooses it by name.
  tf.registerBackend("webgpu", () => new NodeWebGPUBackend(device, info), 0);
  adapter = {
    kind:
      info.isFallbackAdapter || SOFTWARE_ADAPTER.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`)
        ? "cpu"
        : "gpu",
    api,
    description: [info.vendor, info.device, info.description].filter((s) => s).join(", "),
  };
}

async function loadDawn(): Promise<Dawn> {
  let entry: string;
  try {
    entry = require.resolve("webgpu");
  } catch {
    throw new BackendError(`the webgpu backend needs the npm package webgpu (Dawn for Node): ${INSTALL}`);
  }
  try {
    // By file URL, so a bundler leaves this optional package (and its native addon) to Node.
    return (await import(pathToFileURL(entry).href)) as Dawn;
  } catch (e) {
    throw new BackendError(`the npm package webgpu failed to load (${(e as Error).message}); reinstall it: ${INSTALL}`);
  }
}

/** The first adapter that opens: Dawn's default API, then OpenGL ES in compatibility mode (Mesa's llvmpipe on a machine without a GPU). */
async function openAdapter(dawn: Dawn): Promise<{ gpu: Gpu; adapter: GpuAdapter; api: WebgpuAdapter["api"] }> {
  const failures: string[] = [];
  if (nativeApiMayExist()) {
    try {
      const gpu = dawn.create([]);
      const found = await gpu.requestAdapter({ powerPreference: "high-performance" });
      if (found) return { gpu, adapter: found, api: "native" };
      failures.push("no native (Vulkan/Metal/D3D12) adapter");
    } catch (e) {
      failures.push(`native: ${(e as Error).message}`);
    }
  }
  // Mesa's EGL looks for a display server unless told to render without one.
  process.env.EGL_PLATFORM ??= "surfaceless";
  try {
    const gpu = dawn.create(["backend=opengles"]);
    const found = await gpu.requestAdapter({ featureLevel: "compatibility" });
    if (found) return { gpu, adapter: found, api: "opengles" };
    failures.push("no OpenGL ES adapter");
  } catch (e) {
    failures.push(`opengles: ${(e as Error).message}`);
  }
  const hint =
    process.platform === "linux"
      ? `install a GPU's Vulkan driver, or to run on the CPU through Mesa's llvmpipe: apt-get install ${APT_PACKAGES}`
      : "check the GPU driver";
  throw new BackendError(`the webgpu backend found no adapter (${failures.join("; ")}): ${hint}`);
}

/**
 * On Linux Dawn's native API is Vulkan; without its loader the attempt only prints a warning to
 * stderr (from native code, so it cannot be silenced), so it is skipped when no libvulkan.so.1
 * is on the usual library paths. Elsewhere (Metal, D3D12) it is always tried.
 */
/** Whether Dawn could find a GPU API here (on Linux: a Vulkan loader is installed). `auto` tries webgpu only then. */
export function nativeApiMayExist(): boolean {
  if (process.platform !== "linux") return true;
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? "").split(delimiter).filter((d) => d),
    "/usr/lib",
    "/usr/lib64",
    "/lib",
    "/lib64",
    "/usr/local/lib",
    `/usr/lib/${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux-gnu`,
    `/lib/${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux-gnu`,
  ];
  return dirs.some((d) => existsSync(join(d, "libvulkan.so.1")));
}

/** The first uncaptured device error since the last read, reported (once) by the next read. */
let deviceError: string | undefined;

function takeDeviceError(): string | undefined {
  const message = deviceError;
  deviceError = undefined;
  return message;
}

/**
 * Dawn resolves its promises (buffer maps among them) from a callback it schedules with
 * setImmediate, so none can complete while JavaScript is busy — and a kernel or dataSync must
 * return synchronously. Dawn's scheduled callbacks are collected here so a synchronous read can
 * run them itself until its buffer is mapped. They are recognised as what Dawn's addon passes
 * (an anonymous native function of no parameters, called with no arguments — a Promise's resolve
 * function has one parameter); everything else goes to setImmediate untouched, and each Dawn
 * callback still runs at most once, whoever gets to it first.
 */
const dawnTicks = new Set<() => void>();
let ticksCaptured = false;

function captureDawnTicks(): void {
  if (ticksCaptured) return;
  ticksCaptured = true;
  const schedule = globalThis.setImmediate;
  const nativeSource = /\{\s*\[native code\]\s*\}\s*$/;
  const capturing = <A extends unknown[]>(callback: (...args: A) => void, ...args: A): NodeJS.Immediate => {
    const anonymous = typeof callback === "function" && callback.name === "" && callback.length === 0 && args.length === 0;
    if (!anonymous || !nativeSource.test(Function.prototype.toString.call(callback))) return schedule(callback, ...args);
    let ran = false;
    const tick = (): void => {
      if (ran) return;
      ran = true;
      dawnTicks.delete(tick);
      callback(...args);
    };
    dawnTicks.add(tick);
    return schedule(tick);
  };
  globalThis.setImmediate = Object.assign(capturing, { __promisify__: schedule.__promisify__ }) as typeof setImmediate;
}

/** Runs Dawn's pending event processing until `buffer` is no longer being mapped. */
function waitForMap(buffer: GpuBuffer): void {
  const deadline = performance.now() + 120_000;
  while (buffer.mapState === "pending") {
    if (dawnTicks.size === 0) throw new Error("webgpu: a buffer map is pending but Dawn scheduled no event processing");
    for (const tick of [...dawnTicks]) tick();
    if (performance.now() > deadline) throw new Error("webgpu: reading a tensor back from the GPU timed out");
  }
}

const COPY_DST_MAP_READ = 0x0008 | 0x0001; // GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ
const MAP_READ = 0x0001; // GPUMapMode.READ

/** WebGPUBackend with a readSync that works in Node (the package's draws through an OffscreenCanvas). */
function withSyncRead(Base: WebGPUBackendClass): WebGPUBackendClass {
  return class NodeWebGPUBackend extends Base {
    override readSync(dataId: tf.DataId): tf.BackendValues {
      const self = this as unknown as WebGPUBackendInternals;
      const data = self.tensorMap.get(dataId);
      if (data.values != null || data.dtype === "string") return data.values!;
      if (data.complexTensorInfos) {
        const real = this.readSync(data.complexTensorInfos.real.dataId) as Float32Array;
        const imag = this.readSync(data.complexTensorInfos.imag.dataId) as Float32Array;
        return self.convertAndCacheOnCPU(dataId, tf.backend_util.mergeRealAndImagArrays(real, imag));
      }
      const source = data.resource as GpuBuffer;
      // As the package's asynchronous read: copy into a mappable buffer, submit, map.
      const staging = self.bufferManager.acquireBuffer(source.size, COPY_DST_MAP_READ);
      self.ensureCommandEncoderReady();
      self.endComputePassEncoder();
      self.commandEncoder!.copyBufferToBuffer(source, 0, staging, 0, source.size);
      self.submitQueue();
      // The promise is not awaited (the map state is polled); a failed map leaves the buffer unmapped.
      staging.mapAsync(MAP_READ).catch(() => {});
      waitForMap(staging);
      if (staging.mapState !== "mapped") {
        self.bufferManager.releaseBuffer(staging);
        throw new Error(`webgpu: reading a tensor back failed${deviceError ? `: ${takeDeviceError()}` : ""}`);
      }
      const bytes = staging.getMappedRange().slice(0);
      staging.unmap();
      self.bufferManager.releaseBuffer(staging);
      if (deviceError) throw new Error(`webgpu: ${takeDeviceError()}`);
      return self.convertAndCacheOnCPU(dataId, tf.util.convertBackendValuesAndArrayBuffer(bytes, data.dtype));
    }
  };
}
