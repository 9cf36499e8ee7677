package htex

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Trust: the interchange makes a key pair and a self-signed certificate
// for each run, and workers pin that certificate by its SHA-256
// fingerprint, so no certificate authority is involved. On top of TLS a
// worker proves it knows the run's secret with an HMAC bound to the TLS
// session, so the secret itself never crosses the wire and a proof cannot
// be replayed on another connection.

// credentials are one run's secret and, unless the run is unencrypted,
// its certificate.
type credentials struct {
	secret      []byte
	cert        *tls.Certificate
	certPEM     []byte
	fingerprint string
}

func newCredentials(encrypted bool) (*credentials, error) {
	c := &credentials{secret: make([]byte, 32)}
	if _, err := rand.Read(c.secret); err != nil {
		return nil, fmt.Errorf("generate run secret: %w", err)
	}
	if !encrypted {
		return c, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate interchange key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generate certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "starflow interchange"},
		// Workers check the fingerprint, not the dates, but a skewed
		// clock on a node should not make the certificate look odd to
		// anyone inspecting it.
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create interchange certificate: %w", err)
	}
	c.cert = &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	c.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	c.fingerprint = Fingerprint(der)
	return c, nil
}

// Fingerprint is the hex SHA-256 of a DER certificate, as workers pin it.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

func (c *credentials) serverTLS() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{*c.cert},
		MinVersion:   tls.VersionTLS13,
		// Full-size records from the first byte: the stream is many small
		// frames batched per write, and small records cost a syscall each.
		DynamicRecordSizingDisabled: true,
	}
}

// clientTLS trusts exactly the certificate whose fingerprint is pinned.
func clientTLS(fingerprint string) (*tls.Config, error) {
	want, err := hex.DecodeString(fingerprint)
	if err != nil || len(want) != sha256.Size {
		return nil, fmt.Errorf("interchange fingerprint %q is not a hex SHA-256", fingerprint)
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		// The chain is not verified against any authority: the pin below
		// is the whole of the trust decision.
		InsecureSkipVerify:          true,
		DynamicRecordSizingDisabled: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("interchange sent no certificate")
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if subtle.ConstantTimeCompare(got[:], want) != 1 {
				return fmt.Errorf("interchange certificate fingerprint %x does not match the pinned %s", got, fingerprint)
			}
			return nil
		},
	}, nil
}

// channelBinding is keying material unique to the TLS session, or nil on
// a plain connection.
func channelBinding(c net.Conn) ([]byte, error) {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return nil, nil
	}
	st := tc.ConnectionState()
	return st.ExportKeyingMaterial("EXPORTER-starflow-htex-hello", nil, 32)
}

// helloProof is what a worker sends instead of the secret.
func helloProof(secret []byte, runID string, binding []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("starflow htex hello\x00"))
	mac.Write([]byte(runID))
	mac.Write([]byte{0})
	mac.Write(binding)
	return mac.Sum(nil)
}

// decodeSecret reads the hex form a run folder and a worker's command use.
func decodeSecret(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) < 16 {
		return nil, errors.New("run secret is not a hex string of at least 16 bytes")
	}
	return b, nil
}

// ReadSecretFile reads a run secret as the interchange wrote it.
func ReadSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read run secret: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if _, err := decodeSecret(s); err != nil {
		return "", fmt.Errorf("read run secret %s: %w", path, err)
	}
	return s, nil
}

// writePrivate writes a file only its owner can read, whatever the umask
// or an earlier file's mode.
func writePrivate(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeRunFiles puts the secret and the certificate where a provider's
// worker command can point at them.
func (c *credentials) writeRunFiles(dir string) (secretFile, certFile string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("create %s: %w", dir, err)
	}
	secretFile = filepath.Join(dir, "secret")
	if err := writePrivate(secretFile, []byte(hex.EncodeToString(c.secret)+"\n")); err != nil {
		return "", "", fmt.Errorf("write run secret: %w", err)
	}
	if c.cert != nil {
		certFile = filepath.Join(dir, "interchange.pem")
		if err := writePrivate(certFile, c.certPEM); err != nil {
			return "", "", fmt.Errorf("write interchange certificate: %w", err)
		}
	}
	return secretFile, certFile, nil
}
