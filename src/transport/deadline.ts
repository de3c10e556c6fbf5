// A connect deadline that a passphrase prompt can pause: nobody times out while typing.
/** A connect deadline that can stand still while a person types a passphrase. */
export class Deadline {
  private timer: NodeJS.Timeout | undefined;
  private remaining: number;
  private startedAt = 0;
  private paused = 0;
  constructor(
    ms: number,
    private readonly onExpire: () => void,
  ) {
    this.remaining = ms;
    this.arm();
  }
  private arm(): void {
    this.startedAt = Date.now();
    this.timer = setTimeout(this.onExpire, Math.max(0, this.remaining));
  }
  pause(): void {
    if (this.paused++ === 0) {
      clearTimeout(this.timer);
      this.remaining -= Date.now() - this.startedAt;
    }
  }
  resume(): void {
    if (--this.paused === 0) this.arm();
  }
  clear(): void {
    clearTimeout(this.timer);
    this.paused = 1_000_000;
  }
}
