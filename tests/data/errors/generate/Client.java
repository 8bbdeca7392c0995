import javax.net.ssl.*;
import java.net.*;

/** Connects to 127.0.0.1:PORT with SNI NAME and prints the exception Java raises (or OK). */
public class Client {
    public static void main(String[] a) throws Exception {
        String host = a[0];
        int port = Integer.parseInt(a[1]);
        try {
            SSLSocketFactory f = (SSLSocketFactory) SSLSocketFactory.getDefault();
            Socket raw = new Socket();
            raw.connect(new InetSocketAddress("127.0.0.1", port), 3000);
            raw.setSoTimeout(3000);
            SSLSocket s = (SSLSocket) f.createSocket(raw, host, port, true);
            if (a.length > 2 && !a[2].isEmpty()) s.setEnabledProtocols(a[2].split(","));
            SSLParameters p = s.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(p);
            s.startHandshake();
            s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes());
            s.getInputStream().read();
            System.out.println("OK");
        } catch (Exception e) {
            System.out.println(e.toString().replace('\n', ' '));
        }
    }
}
