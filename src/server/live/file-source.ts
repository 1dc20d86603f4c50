import type { Scheduler } from '../../transport/index.ts';
import type { Clock } from '../../util/clock.ts';
import { createLogger } from '../../util/log.ts';
import { loopTracks } from '../../sender/looped-source.ts';
import { PlayTimeline } from '../../sender/play-timeline.ts';
import { betweenLattice } from '../../sender/send-grid.ts';
import { RtpStream } from '../../sender/rtp-stream.ts';
import type { MediaEntry } from '../media-catalog.ts';
import type { LiveChannel } from './live-channel.ts';

const log = createLogger('live');

/** After a failed read, a looped live file tries again this much later rather than stopping the channel. */
const READ_RETRY_MS = 1000;

/**
 * `serve --live NAME=FILE`: the file's tracks looped (sender/looped-source.ts) on one timeline from
 * `start()` on, each paced by an RtpStream through its channel track's sender, so sequence numbers
 * and timestamps run on across loops and every viewer gets the same packets.
 */
export class FileLoopSource {
  private streams: RtpStream[] = [];
  readonly periodSec: number;
  private readonly looped;

  constructor(
    readonly entry: MediaEntry,
    private readonly channel: LiveChannel,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    /** Played once rather than looped: `onEnded` is called when every track has ended. */
    private readonly once?: { onEnded: () => void },
  ) {
    this.looped = loopTracks(
      entry.durationSec,
      entry.tracks.map((t) => t.source),
      once ? 1 : Infinity,
      entry.sendLattice?.periodSec,
    );
    this.periodSec = this.looped.periodSec;
  }

  get channelPath(): string {
    return this.channel.path;
  }

  start(): void {
    this.channel.setFormats(this.entry.tracks.map((t) => ({ ...t.source.format })));
    const now = this.clock.now();
    const wall = this.clock.wallNow();
    const timeline = new PlayTimeline();
    let ended = 0;
    const lattice = this.entry.sendLattice;
    timeline.start(0, now);
    this.streams = this.looped.sources.map((source, i) => {
      const track = this.channel.tracks[i];
      if (!track) throw new Error(`live channel ${this.channel.name} has no track ${i + 1}`);
      // Media time 0 of the first pass is RTP time `timestampBase`, at the wall clock of the start.
      track.setReference(wall, track.sender.timestampBase);
      const stream = new RtpStream(
        track.control,
        source,
        track.sender,
        timeline,
        (s) => this.scheduler.schedule(s, this.clock.now()),
        () => {
          // Looped: never. Once: the channel ends with its last track.
          if (this.once && ++ended === this.looped.sources.length) this.once.onEnded();
        },
        (s, err) => {
          if (!s.isPlaying) return; // the channel stopped and closed its file meanwhile
          log.error('cannot read live file', { file: this.entry.relPath, error: String(err) });
          this.scheduler.schedule(s, this.clock.now() + READ_RETRY_MS);
        },
      );
      // On the file's send lattice, as file sessions are (file-presentation.ts): audio at its
      // instants, video at the midpoints, so that a video frame's fan-out to every viewer never
      // holds back the audio due next.
      if (lattice && i !== lattice.track && source.format.media === 'video') stream.lattice = betweenLattice(lattice);
      void stream.seek(0);
      stream.start();
      this.scheduler.schedule(stream, now);
      return stream;
    });
    this.channel.goLive();
  }

  stop(): void {
    for (const s of this.streams) {
      s.stop();
      this.scheduler.remove(s);
    }
  }
}
