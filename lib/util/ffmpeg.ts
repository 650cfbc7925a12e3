// Video in and out through Debian's ffmpeg and ffprobe, spawned as child processes: ffprobe says
// what a file holds, `ffmpeg ... -f rawvideo -` streams its frames as RGB bytes one at a time
// (bounded memory however long the clip), and a FrameEncoder pipes RGB frames into an H.264 file.
// Nothing here decodes video itself.

import { spawn, spawnSync, type ChildProcessByStdio } from 'child_process';
import type { Readable, Writable } from 'stream';
import * as fs from 'fs';
import * as path from 'path';
import type { RgbImage } from './image';

/** Clips larger than this are refused: a 4K frame is already 25 MB of RGB. */
export const MAX_VIDEO = { width: 3840, height: 2160 } as const;

/** File extensions `swap` treats as video (anything else in a folder is tried as a photo). */
export const VIDEO_EXTENSIONS = ['.mp4', '.mov', '.m4v', '.mkv', '.webm', '.avi', '.mpg', '.mpeg', '.ts', '.y4m'] as const;
export const isVideoFile = (file: string): boolean => VIDEO_EXTENSIONS.some((e) => file.toLowerCase().endsWith(e));

/** Why a file cannot be used as a video: one line, said to the user as it is. */
export class VideoRefused extends Error {}

/**
 * RGB <-> YUV 4:2:0 conversion: Lanczos chroma resampling with exact rounding. A frame that
 * passes through untouched (no face) goes YUV -> RGB -> YUV; with swscale's default (bicubic) that
 * round trip alone cost 1-2 dB on sharp colour edges (39.6 dB at crf 14 on ffmpeg's testsrc2).
 */
const SWS = ['-sws_flags', 'lanczos+accurate_rnd+full_chroma_int'];

export interface VideoInfo {
  file: string;
  /** Frame size after the rotation the container asks for (ffmpeg applies it while decoding). */
  width: number;
  height: number;
  /** The frame rate frames are decoded at, as ffmpeg writes it ("30000/1001") and as a number. */
  rate: string;
  fps: number;
  /** Frames the container says it holds (null when it does not say); the decode counts the truth. */
  frames: number | null;
  seconds: number | null;
  codec: string;
  hasAudio: boolean;
  /** The timestamps are not evenly spaced: frames are decoded at a constant `rate` instead. */
  variableFrameRate: boolean;
}

/** ffmpeg's version ("5.1.9-0+deb12u1"), or null when it does not run. */
export function ffmpegVersion(): string | null {
  const r = spawnSync('ffmpeg', ['-version'], { encoding: 'utf8' });
  return r.status === 0 ? (/ffmpeg version (\S+)/.exec(r.stdout)?.[1] ?? 'unknown') : null;
}

/** The one-line reason when ffmpeg or ffprobe is missing, or null when both run. */
export function ffmpegMissing(): string | null {
  for (const tool of ['ffmpeg', 'ffprobe']) {
    const r = spawnSync(tool, ['-version'], { stdio: 'ignore' });
    if (r.error || r.status !== 0) return `${tool} is not installed (video needs Debian's ffmpeg: run npm run setup, or apt-get install ffmpeg)`;
  }
  return null;
}

function run(tool: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** ffmpeg's last error line, shortened: what the user is told. */
export const ffmpegReason = (stderr: string): string =>
  stderr.trim().split('\n').filter(Boolean).pop()?.replace(/^\[[^\]]*\]\s*/, '').replace(/^.*?: /, '').slice(0, 160) ?? 'unknown error';

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  tags?: Record<string, string>;
  side_data_list?: Array<{ rotation?: number }>;
}

const ratio = (r: string | undefined): number => {
  const [n, d] = (r ?? '0/0').split('/').map(Number);
  return d ? n / d : 0;
};

/** What a file holds; VideoRefused with one line when it is not a usable video. */
export async function probeVideo(file: string): Promise<VideoInfo> {
  if (!fs.existsSync(file)) throw new VideoRefused('no such file');
  if (fs.statSync(file).size === 0) throw new VideoRefused('empty file');
  const r = await run('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  if (r.code !== 0) throw new VideoRefused(`not a video (ffprobe: ${ffmpegReason(r.stderr)})`);
  const probe = JSON.parse(r.stdout) as { streams?: ProbeStream[]; format?: { duration?: string } };
  const streams = probe.streams ?? [];
  // Cover art in a music file is a video stream of one still picture; it is not a clip.
  const video = streams.find((s) => s.codec_type === 'video' && s.codec_name !== 'mjpeg' && s.codec_name !== 'png');
  if (!video) throw new VideoRefused(streams.some((s) => s.codec_type === 'audio') ? 'no video stream (audio only)' : 'no video stream');
  if (!video.width || !video.height) throw new VideoRefused('the video stream has no frame size');
  const rotation = Math.abs(video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? Number(video.tags?.rotate ?? 0)) % 180;
  const [width, height] = rotation === 90 ? [video.height, video.width] : [video.width, video.height];
  if (width * height > MAX_VIDEO.width * MAX_VIDEO.height || Math.max(width, height) > Math.max(MAX_VIDEO.width, MAX_VIDEO.height))
    throw new VideoRefused(`the clip is ${width}x${height}, above the limit of ${MAX_VIDEO.width}x${MAX_VIDEO.height} (4K UHD); scale it down first (ffmpeg -vf scale=1920:-2)`);
  const real = ratio(video.r_frame_rate), avg = ratio(video.avg_frame_rate);
  const frames = video.nb_frames !== undefined && Number(video.nb_frames) > 0 ? Number(video.nb_frames) : null;
  if (frames === 0 || (avg === 0 && real === 0)) throw new VideoRefused('zero frames');
  // r_frame_rate is the stream's base rate; a clearly lower average means frames were dropped or
  // spaced unevenly (phones record this way). Decode at the average rate, constant.
  const variableFrameRate = real > 0 && avg > 0 && Math.abs(real - avg) / real > 0.01;
  const rate = variableFrameRate || real === 0 || real > 240 ? video.avg_frame_rate! : video.r_frame_rate!;
  const seconds = Number(video.duration ?? probe.format?.duration);
  return {
    file,
    width,
    height,
    rate,
    fps: ratio(rate),
    frames,
    seconds: Number.isFinite(seconds) ? seconds : null,
    codec: video.codec_name ?? 'unknown',
    hasAudio: streams.some((s) => s.codec_type === 'audio'),
    variableFrameRate,
  };
}

/**
 * The clip's frames in order, as RGB images, one at a time. Frames come at the constant rate
 * `info.rate` (ffmpeg duplicates or drops frames of a variable-rate clip to get there). A damaged
 * stream throws VideoRefused after the frames that decoded, naming how far it got.
 */
export async function* readFrames(info: VideoInfo): AsyncGenerator<RgbImage> {
  const args = ['-v', 'error', '-nostdin', ...SWS, '-i', info.file, '-map', '0:v:0', '-an', '-sn', '-fps_mode', 'cfr', '-r', info.rate, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'];
  const p = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((resolve) => p.on('close', resolve));
  const size = info.width * info.height * 3;
  let frame = Buffer.alloc(size), filled = 0, count = 0;
  try {
    for await (const chunk of p.stdout as AsyncIterable<Buffer>) {
      let at = 0;
      while (at < chunk.length) {
        const n = Math.min(size - filled, chunk.length - at);
        chunk.copy(frame, filled, at, at + n);
        filled += n;
        at += n;
        if (filled === size) {
          count++;
          yield { width: info.width, height: info.height, data: new Uint8Array(frame.buffer, frame.byteOffset, size) };
          frame = Buffer.alloc(size);
          filled = 0;
        }
      }
    }
    const code = await closed;
    // ffmpeg exits 0 on a truncated file, but says so on stderr.
    const damaged = code !== 0 || /partial file|Invalid data|corrupt|error while decoding|Invalid NAL/i.test(stderr);
    if (damaged) throw new VideoRefused(`truncated or damaged: ${count} frame${count === 1 ? '' : 's'} decoded${info.frames ? ` of ${info.frames}` : ''} (ffmpeg: ${ffmpegReason(stderr)})`);
    if (count === 0) throw new VideoRefused('zero frames');
  } finally {
    // The consumer stopped early (or failed): do not leave a decoder running.
    if (p.exitCode === null) p.kill('SIGKILL');
  }
}

export interface EncoderOptions {
  width: number;
  height: number;
  rate: string;
  /** x264's constant rate factor: 12 keeps untouched frames above 40 dB of the source. */
  crf?: number;
  /** Frames per key frame; one per segment lets segments be joined without re-encoding. */
  gop?: number;
}

/** RGB frames in, an H.264 MP4 (yuv420p, plays in every browser) out; `finish` waits for the file. */
export class FrameEncoder {
  private readonly p: ChildProcessByStdio<Writable, null, Readable>;
  private stderr = '';
  private readonly closed: Promise<number | null>;
  frames = 0;

  constructor(readonly file: string, private readonly o: EncoderOptions) {
    const args = [
      '-v', 'error', '-nostdin', '-y',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${o.width}x${o.height}`, '-framerate', o.rate, '-i', '-',
      ...SWS, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(o.crf ?? 12), '-pix_fmt', 'yuv420p',
      ...(o.gop ? ['-g', String(o.gop)] : []),
      // yuv420p needs even sides; an odd-sized clip loses its last row or column.
      ...(o.width % 2 || o.height % 2 ? ['-vf', 'crop=trunc(iw/2)*2:trunc(ih/2)*2'] : []),
      '-f', 'mp4', file,
    ];
    this.p = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.p.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.closed = new Promise((resolve) => this.p.on('close', resolve));
    // A write after ffmpeg died raises EPIPE on stdin; the exit code reports it in finish().
    this.p.stdin.on('error', () => undefined);
  }

  /** Write one frame; waits while ffmpeg's pipe is full, so memory stays bounded. */
  async write(img: RgbImage): Promise<void> {
    if (img.width !== this.o.width || img.height !== this.o.height) throw new Error(`frame is ${img.width}x${img.height}, the encoder ${this.o.width}x${this.o.height}`);
    this.frames++;
    if (!this.p.stdin.write(img.data)) await new Promise<void>((resolve) => this.p.stdin.once('drain', resolve));
  }

  async finish(): Promise<void> {
    this.p.stdin.end();
    const code = await this.closed;
    if (code !== 0) throw new Error(`ffmpeg could not encode ${this.file}: ${ffmpegReason(this.stderr)}`);
  }

  abort(): void {
    this.p.kill('SIGKILL');
  }
}

export interface MuxOptions {
  /** Video files (same codec and size) joined in order without re-encoding. */
  parts: string[];
  /** The clip whose audio goes with them, if it has any. */
  audioFrom: string | null;
  out: string;
  /** Container metadata: key -> value (readable with ffprobe -show_format). */
  metadata: Record<string, string>;
}

/** Join encoded parts, add the source's audio (re-encoded to AAC) and the metadata. */
export async function mux(o: MuxOptions): Promise<void> {
  const list = `${o.out}.parts.txt`;
  // The concat demuxer reads relative names from the list's own folder: give it absolute ones.
  fs.writeFileSync(list, o.parts.map((p) => `file '${path.resolve(p).replace(/'/g, "'\\''")}'\n`).join(''));
  try {
    const args = ['-v', 'error', '-nostdin', '-y', '-f', 'concat', '-safe', '0', '-i', list];
    if (o.audioFrom) args.push('-i', o.audioFrom, '-map', '0:v:0', '-map', '1:a:0?', '-c:a', 'aac', '-b:a', '160k');
    else args.push('-map', '0:v:0');
    args.push('-c:v', 'copy', ...Object.entries(o.metadata).flatMap(([k, v]) => ['-metadata', `${k}=${v}`]), '-movflags', '+faststart', '-f', 'mp4', o.out);
    const r = await run('ffmpeg', args);
    if (r.code !== 0) throw new Error(`ffmpeg could not write ${o.out}: ${ffmpegReason(r.stderr)}`);
  } finally {
    fs.rmSync(list, { force: true });
  }
}

/** Container tags and stream facts of a written clip, for tests and the summary. */
export async function probeOutput(file: string): Promise<{ tags: Record<string, string>; frames: number; rate: string; audio: boolean; width: number; height: number }> {
  const r = await run('ffprobe', ['-v', 'error', '-count_frames', '-print_format', 'json', '-show_format', '-show_streams', file]);
  if (r.code !== 0) throw new Error(`ffprobe ${file}: ${ffmpegReason(r.stderr)}`);
  const d = JSON.parse(r.stdout) as { streams: Array<ProbeStream & { nb_read_frames?: string }>; format: { tags?: Record<string, string> } };
  const v = d.streams.find((s) => s.codec_type === 'video');
  return {
    tags: d.format.tags ?? {},
    frames: Number(v?.nb_read_frames ?? 0),
    rate: v?.r_frame_rate ?? '0/0',
    audio: d.streams.some((s) => s.codec_type === 'audio'),
    width: v?.width ?? 0,
    height: v?.height ?? 0,
  };
}
