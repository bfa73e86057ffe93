// The privacy countdown: after `seconds` without activity, `onExpire` runs (the kiosk clears
// the screen and tells the server to forget the session). A warning with a live countdown
// is shown during the last `warnSeconds` when the idle time is long enough for it.

export class IdleTimer {
  constructor({ seconds, warnSeconds = 10, onWarn, onHideWarning, onExpire, win = window }) {
    this.seconds = seconds;
    this.warnSeconds = warnSeconds;
    this.onWarn = onWarn;
    this.onHideWarning = onHideWarning;
    this.onExpire = onExpire;
    this.win = win;
    this._warn = 0;
    this._expire = 0;
    this._tick = 0;
  }

  get enabled() {
    return this.seconds > 0;
  }

  get running() {
    return Boolean(this._expire);
  }

  /** (Re)start the countdown; with `restart: false`, only start it when it is not running. */
  start({ restart = true } = {}) {
    if (!this.enabled || (!restart && this.running)) return;
    this.stop();
    const total = this.seconds * 1000;
    if (this.seconds >= 2 * this.warnSeconds) {
      this._warn = this.win.setTimeout(() => {
        let left = this.warnSeconds;
        this.onWarn(left);
        this._tick = this.win.setInterval(() => {
          left = Math.max(0, left - 1);
          this.onWarn(left);
        }, 1000);
      }, total - this.warnSeconds * 1000);
    }
    this._expire = this.win.setTimeout(() => {
      this.stop();
      this.onExpire();
    }, total);
  }

  stop() {
    const warned = Boolean(this._tick);
    this.win.clearTimeout(this._warn);
    this.win.clearTimeout(this._expire);
    this.win.clearInterval(this._tick);
    this._warn = this._expire = this._tick = 0;
    if (warned) this.onHideWarning();
  }
}
