// tlsdoctor check: one JSSE handshake (endpoint identification on, as HttpsURLConnection and
// HttpClient set it), then close. Arguments: relay port, host name, "1" to send SNI, CA file
// ("" for the default trust store), milliseconds to listen after the handshake, timeout in
// milliseconds, client certificate chain (PEM, "" for none) and its key (PKCS#8 DER, as
// tlsdoctor converts it). Prints "OK <protocol>" or "ERR <exception>".
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collections;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

public class LiveClient {
  public static void main(String[] a) {
    int port = Integer.parseInt(a[0]);
    String host = a[1];
    boolean sni = a[2].equals("1");
    String cafile = a[3];
    int settle = Integer.parseInt(a[4]);
    int timeout = Integer.parseInt(a[5]);
    String certfile = a.length > 6 ? a[6] : "";
    String keyfile = a.length > 7 ? a[7] : "";
    try {
      SSLSocketFactory f = (SSLSocketFactory) SSLSocketFactory.getDefault();
      TrustManager[] tms = null;
      KeyManager[] kms = null;
      if (!cafile.isEmpty()) {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        int i = 0;
        try (InputStream in = new FileInputStream(cafile)) {
          for (Certificate c : cf.generateCertificates(in)) {
            ks.setCertificateEntry("ca" + (i++), c);
          }
        }
        TrustManagerFactory tmf =
            TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        tms = tmf.getTrustManagers();
      }
      if (!certfile.isEmpty() && !keyfile.isEmpty()) {
        kms = keyManagers(certfile, keyfile);
      }
      if (tms != null || kms != null) {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kms, tms, null);
        f = ctx.getSocketFactory();
      }
      Socket raw = new Socket();
      raw.connect(new InetSocketAddress("127.0.0.1", port), timeout);
      raw.setSoTimeout(timeout);
      try (SSLSocket s = (SSLSocket) f.createSocket(raw, host, port, true)) {
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        if (!sni) {
          p.setServerNames(Collections.emptyList());
        }
        s.setSSLParameters(p);
        s.startHandshake();
        String version = s.getSession().getProtocol();
        // Listen a moment: a TLS 1.3 server's refusal can follow the client's Finished.
        s.setSoTimeout(settle);
        try {
          s.getInputStream().read();
        } catch (SocketTimeoutException t) {
          // nothing more from the server: connected
        }
        System.out.println("OK " + version);
      }
    } catch (Exception e) {
      System.out.println("ERR " + e.toString());
    }
  }

  // The client certificate chain and its key, as a key store's only entry.
  static KeyManager[] keyManagers(String certfile, String keyfile) throws Exception {
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    Certificate[] chain;
    try (InputStream in = new FileInputStream(certfile)) {
      chain = cf.generateCertificates(in).toArray(new Certificate[0]);
    }
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Files.readAllBytes(Paths.get(keyfile)));
    PrivateKey key = null;
    Exception last = null;
    for (String alg : new String[] {"RSA", "EC", "EdDSA", "RSASSA-PSS"}) {
      try {
        key = KeyFactory.getInstance(alg).generatePrivate(spec);
        break;
      } catch (Exception e) {
        last = e;
      }
    }
    if (key == null) {
      throw last;
    }
    char[] password = new char[0];
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    ks.setKeyEntry("client", key, password, chain);
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, password);
    return kmf.getKeyManagers();
  }
}
