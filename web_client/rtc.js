// One WebRTC voice session: microphone up, reply audio down, JSON events on the "events"
// data channel. Offline by design: no STUN/TURN (iceServers: []), non-trickle ICE (the offer
// is posted once gathering is complete).
//
// Events (EventTarget, `detail` holds the payload):
//   "message"       a parsed server message (the types and fields of docs/WIRE.md)
//   "open"          the data channel is open (queued messages have been flushed)
//   "remotestream"  the reply MediaStream (play it through <audio autoplay>)
//   "closed"        the connection ended or failed after having been set up

import { postOffer } from "./api.js";

export const MIC_CONSTRAINTS = Object.freeze({
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
  video: false,
});

const ICE_GATHER_TIMEOUT_MS = 2500;
const MAX_QUEUED = 20;

export class MicError extends Error {
  constructor(reason, cause) {
    super(`microphone unavailable: ${reason}`);
    this.name = "MicError";
    this.reason = reason; // "denied" | "missing" | "busy" | "insecure" | "failed"
    this.cause = cause;
  }
}

export function rtcSupported(win = globalThis) {
  return typeof win.RTCPeerConnection === "function";
}

export async function openMicrophone(nav = globalThis.navigator) {
  if (!nav?.mediaDevices?.getUserMedia) {
    // getUserMedia exists only in secure contexts (https or localhost).
    throw new MicError(globalThis.isSecureContext === false ? "insecure" : "failed");
  }
  try {
    return await nav.mediaDevices.getUserMedia(MIC_CONSTRAINTS);
  } catch (err) {
    const reason = {
      NotAllowedError: "denied",
      SecurityError: "denied",
      NotFoundError: "missing",
      OverconstrainedError: "missing",
      NotReadableError: "busy",
      AbortError: "busy",
    }[err?.name] ?? "failed";
    throw new MicError(reason, err);
  }
}

function waitForIceGathering(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    const timer = setTimeout(done, timeoutMs); // send what we have: host candidates come first
    pc.addEventListener("icegatheringstatechange", check);
  });
}

export class VoiceSession extends EventTarget {
  constructor({ lang, resume = null }) {
    super();
    this.lang = lang;
    this.resume = resume; // the previous session's id, when reconnecting
    this.pc = null;
    this.dc = null;
    this.sender = null;
    this.micStream = null;
    this.remoteStream = null;
    this.sessionId = null;
    this._queue = [];
    this._closed = false;
    this._abort = new AbortController();
  }

  get open() {
    return this.dc?.readyState === "open";
  }

  get hasMicrophone() {
    return Boolean(this.micStream?.getAudioTracks().some((t) => t.readyState === "live"));
  }

  /**
   * Set up the peer connection. `micStream` may be null (text-only session: the transceiver
   * is still sendrecv, so a microphone can be attached later without renegotiation).
   * Throws ApiError (rate limited, http, network) or Error.
   */
  async connect(micStream) {
    this.micStream = micStream;
    const pc = new RTCPeerConnection({ iceServers: [] });
    this.pc = pc;
    const track = micStream?.getAudioTracks()[0] ?? null;
    if (track) track.enabled = false; // the app opens the microphone by mode (hands-free / hold)
    // One audio transceiver: our microphone up, the reply voice down.
    const transceiver = pc.addTransceiver(track ?? "audio", {
      direction: "sendrecv",
      streams: micStream ? [micStream] : [],
    });
    this.sender = transceiver.sender;
    pc.addEventListener("track", (event) => {
      const stream = event.streams[0] ?? new MediaStream([event.track]);
      this.remoteStream = stream;
      this._emit("remotestream", stream);
    });
    pc.addEventListener("connectionstatechange", () => {
      if (["failed", "closed"].includes(pc.connectionState)) this._finish();
    });

    // The data channel must exist before the offer so that it is negotiated in it.
    const dc = pc.createDataChannel("events", { ordered: true });
    this.dc = dc;
    dc.addEventListener("open", () => {
      for (const msg of this._queue.splice(0)) dc.send(msg);
      this._emit("open");
    });
    dc.addEventListener("message", (event) => this._onMessage(event.data));
    dc.addEventListener("close", () => this._finish());

    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    await waitForIceGathering(pc, ICE_GATHER_TIMEOUT_MS);
    if (this._closed) throw new Error("session closed while connecting");
    const signal = this._abort.signal;
    const answer = await postOffer(pc.localDescription.sdp, this.lang, { signal }, this.resume);
    this.sessionId = answer.session_id ?? null;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  }

  /** Attach a microphone to a session that started without one. */
  async attachMicrophone(micStream) {
    const track = micStream.getAudioTracks()[0];
    track.enabled = false;
    await this.sender.replaceTrack(track);
    this.micStream = micStream;
  }

  /** Open or close the microphone (push-to-talk / hands-free): a disabled track sends silence. */
  setMicEnabled(on) {
    for (const track of this.micStream?.getAudioTracks() ?? []) track.enabled = Boolean(on);
  }

  /** Send a JSON message on the data channel (queued until it opens). */
  send(message) {
    if (this._closed) return false;
    const data = JSON.stringify(message);
    if (this.open) {
      this.dc.send(data);
    } else {
      this._queue.push(data);
      if (this._queue.length > MAX_QUEUED) this._queue.shift();
    }
    return true;
  }

  /** Send `message` (e.g. a reset) and close once it has left the browser. */
  async sendAndClose(message, timeoutMs = 500) {
    if (this.open) {
      const dc = this.dc;
      dc.send(JSON.stringify(message));
      // Closing the channel first is graceful (buffered data is sent before it closes).
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        dc.addEventListener("close", () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
        dc.close();
      });
    }
    this.close();
  }

  close() {
    if (this._closed) return;
    this._closed = true;
    this._abort.abort();
    try {
      this.dc?.close();
      this.pc?.close();
    } catch {
      /* already closed */
    }
    for (const track of this.micStream?.getTracks() ?? []) track.stop();
    this._emit("closed");
  }

  _finish() {
    if (!this._closed) this.close();
  }

  _onMessage(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      console.warn("voice session: ignoring a non-JSON message");
      return;
    }
    if (message && typeof message.type === "string") this._emit("message", message);
  }

  _emit(type, detail = null) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
