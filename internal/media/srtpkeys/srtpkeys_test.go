package srtpkeys

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// handshake runs a real DTLS handshake over loopback UDP with r on the
// server's hooks and returns both connections.
func shakeHands(t *testing.T, r *Recorder, suite dtls.CipherSuiteID, profile dtls.SRTPProtectionProfile, ems dtls.ExtendedMasterSecretType) (server, client *dtls.Conn) {
	t.Helper()
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := func() *dtls.Config {
		return &dtls.Config{
			Certificates:           []tls.Certificate{cert},
			InsecureSkipVerify:     true,
			CipherSuites:           []dtls.CipherSuiteID{suite},
			SRTPProtectionProfiles: []dtls.SRTPProtectionProfile{profile},
			ExtendedMasterSecret:   ems,
			ClientAuth:             dtls.RequireAnyClientCert,
		}
	}
	scfg := cfg()
	scfg.ServerHelloMessageHook = r.ServerHello
	scfg.KeyLogWriter = r
	if server, err = dtls.Server(a, b.LocalAddr(), scfg); err != nil {
		t.Fatal(err)
	}
	if client, err = dtls.Client(b, a.LocalAddr(), cfg()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- client.HandshakeContext(ctx) }()
	if err := server.HandshakeContext(ctx); err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	return server, client
}

func TestKeysAreTheConnections(t *testing.T) {
	tests := []struct {
		name    string
		suite   dtls.CipherSuiteID
		profile dtls.SRTPProtectionProfile
		ems     dtls.ExtendedMasterSecretType
	}{
		{"gcm128 sha256, aead 128", dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, dtls.SRTP_AEAD_AES_128_GCM, dtls.RequireExtendedMasterSecret},
		{"gcm256 sha384, aead 256", dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, dtls.SRTP_AEAD_AES_256_GCM, dtls.RequireExtendedMasterSecret},
		{"cbc sha, hmac sha1 80", dtls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, dtls.SRTP_AES128_CM_HMAC_SHA1_80, dtls.RequireExtendedMasterSecret},
		{"no extended master secret", dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, dtls.SRTP_AES128_CM_HMAC_SHA1_80, dtls.DisableExtendedMasterSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Recorder
			if _, _, err := r.Keys(); !errors.Is(err, ErrNotReady) {
				t.Fatalf("Keys before the handshake: %v, want ErrNotReady", err)
			}
			server, client := shakeHands(t, &r, tt.suite, tt.profile, tt.ems)
			profile, keys, err := r.Keys()
			if err != nil {
				t.Fatal(err)
			}
			if profile != srtp.ProtectionProfile(tt.profile) {
				t.Fatalf("profile %v, want %v", profile, tt.profile)
			}
			// The server's own exporter, as pion's SRTP session uses it.
			state, _ := server.ConnectionState()
			want := srtp.Config{Profile: profile}
			if err := want.ExtractSessionKeysFromDTLS(&state, false); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(keys.LocalMasterKey, want.Keys.LocalMasterKey) || !bytes.Equal(keys.LocalMasterSalt, want.Keys.LocalMasterSalt) ||
				!bytes.Equal(keys.RemoteMasterKey, want.Keys.RemoteMasterKey) || !bytes.Equal(keys.RemoteMasterSalt, want.Keys.RemoteMasterSalt) {
				t.Fatalf("keys differ from the connection's exporter")
			}

			// What the server encrypts with them, the client decrypts
			// with its own.
			enc, err := srtp.CreateContext(keys.LocalMasterKey, keys.LocalMasterSalt, profile)
			if err != nil {
				t.Fatal(err)
			}
			cstate, _ := client.ConnectionState()
			ckeys := srtp.Config{Profile: profile}
			if err := ckeys.ExtractSessionKeysFromDTLS(&cstate, true); err != nil {
				t.Fatal(err)
			}
			dec, err := srtp.CreateContext(ckeys.Keys.RemoteMasterKey, ckeys.Keys.RemoteMasterSalt, profile)
			if err != nil {
				t.Fatal(err)
			}
			pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 7, SSRC: 42}, Payload: []byte("frame")}).Marshal()
			sealed, err := enc.EncryptRTP(nil, pkt, nil)
			if err != nil {
				t.Fatal(err)
			}
			opened, err := dec.DecryptRTP(nil, sealed, nil)
			if err != nil {
				t.Fatalf("the client cannot decrypt: %v", err)
			}
			if !bytes.Equal(opened, pkt) {
				t.Fatalf("decrypted %x, want %x", opened, pkt)
			}
		})
	}
}

func TestKeyLogLines(t *testing.T) {
	tests := []struct {
		line    string
		wantErr bool
		master  bool
	}{
		{"CLIENT_RANDOM " + hex32 + " 0102\n", false, true},
		{"SERVER_HANDSHAKE_TRAFFIC_SECRET " + hex32 + " 0102\n", false, false},
		{"CLIENT_RANDOM zz 0102\n", true, false},
		{"CLIENT_RANDOM 0102 0102\n", true, false},
		{"CLIENT_RANDOM " + hex32 + " \n", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		var r Recorder
		_, err := r.Write([]byte(tt.line))
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: err %v, want error %v", tt.line, err, tt.wantErr)
		}
		if got := r.master != nil; got != tt.master {
			t.Errorf("%q: master recorded %v, want %v", tt.line, got, tt.master)
		}
	}
}

const hex32 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func BenchmarkKeys(b *testing.B) {
	var r Recorder
	r.hello, r.profile, r.master = true, srtp.ProtectionProfileAeadAes128Gcm, make([]byte, 48)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := r.Keys(); err != nil {
			b.Fatal(err)
		}
	}
}
