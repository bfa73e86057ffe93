// One spoken reply on screen: its sentences in the assistant's caption, the avatar's lips,
// and the highlight of the sentence being heard. The server sends one `sentence` and one
// `visemes` message per sentence, in speaking order; the avatar plays viseme segments back
// to back, and the n-th sentence is highlighted when the n-th segment starts to play.

export class SpokenReply {
  constructor({ view, avatar, win = window }) {
    this.view = view;
    this.avatar = avatar;
    this.win = win;
    this.open = false; // between `reply` and `reply_end`
    this._reset();
  }

  _reset() {
    for (const timer of this._timers ?? []) this.win.clearTimeout(timer);
    this._spans = []; // caption span index of each sentence, in arrival order
    this._segments = 0; // viseme segments scheduled
    this._timed = false; // visemes seen: highlight by their timing
    this._timers = [];
  }

  /** `reply`: a new answer starts (text may be empty; sentences follow). `status` is the
   * answer's review status: a machine-translated one gets a line saying so. */
  start({ text = "", link = null, lang = null, status = null } = {}) {
    this._reset();
    this.open = true;
    this.view.startReply({ text, link, lang, status });
  }

  sentence(text) {
    if (!this.open) this.start();
    const index = this.view.addSentence(text ?? "");
    this._spans.push(index);
    // Without visemes there is no timing: highlight a sentence as it arrives.
    if (!this._timed) this.view.highlightSentence(index);
  }

  visemes(items, duration) {
    const start = this.avatar.playVisemes(items, duration);
    const n = this._segments++;
    this._timed = true;
    const delay = Math.max(0, start * 1000 - this.win.performance.now());
    this._timers.push(this.win.setTimeout(() => {
      this.view.highlightSentence(this._spans[n] ?? n);
    }, delay));
  }

  /** `reply_end`: the text is complete (audio may still be playing unless cancelled). */
  end({ text = "", cancelled = false } = {}) {
    this.open = false;
    if (cancelled) this.stop();
    this.view.endReply(text);
  }

  /** The voice stopped (interrupted, finished, reset): no lips, no highlight. */
  stop() {
    this._reset();
    this.avatar.stopSpeaking();
    this.view.highlightSentence(-1);
  }

  /** Playback is over (the server is listening again): drop the highlight, keep the text. */
  finished() {
    this._reset();
    this.view.highlightSentence(-1);
  }

  /** A new question: clear the assistant's caption. */
  clear() {
    this._reset();
    this.open = false;
    this.view.startReply({});
  }
}
