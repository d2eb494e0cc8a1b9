package live

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The names of the files Start keeps in its work directory. ffmpeg runs
// there, so the filter graph names them without any escaping of the
// caller's paths.
const (
	sdpName     = "live.sdp"
	captionName = "caption.txt"
	fontName    = "font.ttf"
)

// Output picture and encoder settings.
const (
	outWidth  = 1280
	outHeight = 720
	outFPS    = 25
	// gop is two seconds of frames: a keyframe opens every HLS segment
	// and the ingest services ask for one every two seconds.
	gop = 2 * outFPS
)

// HLS settings: the playlist keeps HLSListSize segments of HLSSegment
// each.
const (
	// HLSSegment is the length of one HLS segment.
	HLSSegment = 2 * time.Second
	// HLSListSize is the number of segments in the live playlist.
	HLSListSize = 6
	// HLSPlaylist is the playlist's file name in Target.HLSDir.
	HLSPlaylist = "index.m3u8"
	// hlsSegmentPattern names the segments; the epoch start number makes
	// the names of one run differ from those of the previous one.
	hlsSegmentPattern = "seg%d.ts"
)

// EncoderDelay is the delay Start states for an RTMP target: what this
// side adds before the ingest, measured as the lag of ffmpeg's output
// clock behind the wall clock with the settings here (RTP reordering
// queue, x264's zerolatency tune without B-frames or lookahead, the
// audio resampler and the FLV interleaving). The platform behind the
// ingest adds its own delay, which this package cannot know.
const EncoderDelay = time.Second

// validate checks an Input and a Target before anything is written.
func validate(in Input, out Target) error {
	switch in.VideoCodec {
	case "vp8", "h264":
	default:
		return fmt.Errorf("live: video codec %q, want vp8 or h264", in.VideoCodec)
	}
	ports := append([]int{in.VideoPort}, in.AudioPorts...)
	seen := make(map[int]bool, len(ports))
	for _, p := range ports {
		// ffmpeg listens for RTCP on the port after each RTP port.
		if p <= 0 || p >= 65535 {
			return fmt.Errorf("live: port %d out of range", p)
		}
		if seen[p] || seen[p+1] || seen[p-1] {
			return fmt.Errorf("live: port %d overlaps another stream's RTP or RTCP port", p)
		}
		seen[p] = true
	}
	for _, pt := range []uint8{in.VideoPT, in.AudioPT} {
		if pt > 127 {
			return fmt.Errorf("live: payload type %d out of range", pt)
		}
	}
	if len(in.AudioPorts) > 0 && in.AudioPT == in.VideoPT {
		return fmt.Errorf("live: audio and video share payload type %d", in.VideoPT)
	}
	switch {
	case out.RTMP == "" && out.HLSDir == "":
		return errors.New("live: no target: set RTMP or HLSDir")
	case out.RTMP != "" && out.HLSDir != "":
		return errors.New("live: two targets: set only one of RTMP and HLSDir")
	case strings.Contains(out.HLSDir, "%"):
		return fmt.Errorf("live: HLS directory %q has a %% sign, which ffmpeg reads as a format", out.HLSDir)
	case out.RTMP != "":
		u, err := url.Parse(out.RTMP)
		if err != nil {
			return fmt.Errorf("live: RTMP target: %w", err)
		}
		if u.Scheme != "rtmp" && u.Scheme != "rtmps" || u.Host == "" {
			return fmt.Errorf("live: RTMP target %q is not an rtmp:// or rtmps:// URL", redact(out.RTMP))
		}
	}
	return nil
}

// redact hides the path of an RTMP URL, which carries the stream key, for
// messages and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// secrets are the parts of an RTMP URL that carry the stream key (the
// whole URL, its path, its query), longest first, to be hidden in
// ffmpeg's messages.
func secrets(raw string) []string {
	if raw == "" {
		return nil
	}
	s := []string{raw}
	if u, err := url.Parse(raw); err == nil {
		if len(u.Path) > 1 {
			s = append(s, u.Path)
		}
		if u.RawQuery != "" {
			s = append(s, u.RawQuery)
		}
	}
	return s
}

// hide replaces the secrets in a line of ffmpeg's messages.
func hide(line string, secrets []string) string {
	for _, s := range secrets {
		line = strings.ReplaceAll(line, s, "…")
	}
	return line
}

// sdp is the session description ffmpeg reads the streams from.
func sdp(in Input) string {
	var b strings.Builder
	b.WriteString("v=0\r\n")
	b.WriteString("o=- 0 0 IN IP4 127.0.0.1\r\n")
	b.WriteString("s=hoinghi live\r\n")
	b.WriteString("c=IN IP4 127.0.0.1\r\n")
	b.WriteString("t=0 0\r\n")
	fmt.Fprintf(&b, "m=video %d RTP/AVP %d\r\n", in.VideoPort, in.VideoPT)
	if in.VideoCodec == "h264" {
		fmt.Fprintf(&b, "a=rtpmap:%d H264/90000\r\n", in.VideoPT)
		fmt.Fprintf(&b, "a=fmtp:%d packetization-mode=1\r\n", in.VideoPT)
	} else {
		fmt.Fprintf(&b, "a=rtpmap:%d VP8/90000\r\n", in.VideoPT)
	}
	for _, p := range in.AudioPorts {
		fmt.Fprintf(&b, "m=audio %d RTP/AVP %d\r\n", p, in.AudioPT)
		fmt.Fprintf(&b, "a=rtpmap:%d opus/48000/2\r\n", in.AudioPT)
	}
	return b.String()
}

// clockText is drawtext's text for the time of day, escaped for the
// option parser (\:) inside a quoted filter argument; drawtext itself
// then reads %{localtime:%H\:%M\:%S}.
const clockText = `%{localtime\:%H\\\:%M\\\:%S}`

// filterGraph fits any picture into 1280x720, keeping its shape, over a
// blurred copy of itself stretched to the frame; makes the frame rate
// constant; draws the caption and the clock; and mixes the audio streams
// into one. Both scalers follow a change of picture size frame by frame
// and the overlay places each frame by its own size, so a source switch
// needs no new graph (pad, which sizes its bars once, would leave
// garbage in them).
func filterGraph(audioStreams int) string {
	const text = "fontfile=" + fontName + ":fontsize=34:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=10:y=h-lh-40"
	var b strings.Builder
	fmt.Fprintf(&b, "[0:v:0]split[vb][vf];[vb]scale=32:18,scale=%d:%d,setsar=1[bg];", outWidth, outHeight)
	fmt.Fprintf(&b, "[vf]scale=%d:%d:force_original_aspect_ratio=decrease,setsar=1[fg];", outWidth, outHeight)
	fmt.Fprintf(&b, "[bg][fg]overlay=x=(W-w)/2:y=(H-h)/2:eval=frame,fps=%d,format=yuv420p,", outFPS)
	fmt.Fprintf(&b, "drawtext=%s:textfile=%s:reload=1:expansion=none:x=40,", text, captionName)
	fmt.Fprintf(&b, "drawtext=%s:text='%s':x=w-tw-40[v];", text, clockText)
	switch audioStreams {
	case 0:
		b.WriteString("anullsrc=r=48000:cl=stereo[a]")
	case 1:
		b.WriteString("[0:a:0]aresample=async=1,aformat=sample_rates=48000:channel_layouts=stereo[a]")
	default:
		for i := range audioStreams {
			fmt.Fprintf(&b, "[0:a:%d]aresample=async=1,aformat=sample_rates=48000:channel_layouts=stereo[a%d];", i, i)
		}
		for i := range audioStreams {
			fmt.Fprintf(&b, "[a%d]", i)
		}
		// Each stream at its own level (the hall and the speaker are
		// different microphones); the limiter keeps the sum from clipping.
		fmt.Fprintf(&b, "amix=inputs=%d:duration=longest:dropout_transition=0:normalize=0,alimiter=limit=0.9[a]", audioStreams)
	}
	return b.String()
}

// args is ffmpeg's command line, run in the work directory.
func args(in Input, out Target) []string {
	a := []string{
		"-hide_banner", "-nostats", "-loglevel", "warning",
		"-progress", "pipe:1", "-stats_period", "1",
		"-y",
		// Input: the SDP file and the UDP streams it names.
		"-protocol_whitelist", "file,udp,rtp",
		"-fflags", "+genpts",
		// Probing ends as soon as every stream is known (for VP8, at the
		// first keyframe); the limits only bound the wait for one.
		"-analyzeduration", "3000000",
		"-probesize", "5000000",
		"-reorder_queue_size", "64",
		"-buffer_size", strconv.Itoa(4 << 20),
		// A source switch may change the picture size: the graph follows
		// it frame by frame (see filterGraph), and its audio part is not
		// torn down and rebuilt as a reinit would.
		"-reinit_filter", "0",
		"-i", sdpName,
		"-filter_complex", filterGraph(len(in.AudioPorts)),
		"-map", "[v]", "-map", "[a]",
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
		"-g", strconv.Itoa(gop), "-keyint_min", strconv.Itoa(gop), "-sc_threshold", "0",
		"-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "5000k",
		"-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
		"-max_muxing_queue_size", "1024",
	}
	if out.RTMP != "" {
		return append(a, "-f", "flv", "-flvflags", "no_duration_filesize", out.RTMP)
	}
	return append(a,
		"-f", "hls",
		"-hls_time", strconv.FormatFloat(HLSSegment.Seconds(), 'f', -1, 64),
		"-hls_list_size", strconv.Itoa(HLSListSize),
		"-hls_flags", "delete_segments+independent_segments+temp_file",
		"-hls_start_number_source", "epoch",
		"-hls_segment_filename", filepath.Join(out.HLSDir, hlsSegmentPattern),
		filepath.Join(out.HLSDir, HLSPlaylist),
	)
}

// delay is the delay stated to viewers of a target.
func delay(out Target) time.Duration {
	if out.HLSDir != "" {
		return HLSSegment * HLSListSize
	}
	return EncoderDelay
}
