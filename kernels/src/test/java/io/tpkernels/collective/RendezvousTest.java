package io.tpkernels.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The rendezvous between separate JVM processes on loopback, exchanging a stand-in id (no GPU needed). */
class RendezvousTest {

    @Test
    void everyProcessGetsRankZerosId() throws Exception {
        int port = ProbeProcesses.freePort();
        int world = 4;
        List<Process> ps = new ArrayList<>();
        try {
            // Start the peers first: they retry until rank 0 listens.
            for (int r = world - 1; r >= 0; r--) {
                ps.add(ProbeProcesses.start(RendezvousProbe.env(r, world, port, r % 2 == 1)));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            Set<String> ids = new HashSet<>();
            for (Process p : ps) {
                String out = ProbeProcesses.finish(p, deadline);
                assertEquals(0, p.exitValue(), out);
                ids.add(out.substring(out.indexOf(" id ") + 4));
            }
            assertEquals(1, ids.size(), "one id for all: " + ids);
            assertEquals(256, ids.iterator().next().length(), "128 bytes");
        } finally {
            ps.forEach(Process::destroyForcibly); // none outlives the test, whatever failed
        }
    }

    @Test
    void rankZeroListensOnEveryInterfaceNotOnlyOnTheAddressItsNameResolvesTo() throws Exception {
        int port = ProbeProcesses.freePort();
        // Rank 0's MASTER_ADDR is a name only the others resolve (here: none does): it binds the wildcard address.
        Rendezvous.Config root = new Rendezvous.Config(0, 2, "rank-zero.invalid", port);
        // The peer reaches it on another loopback address than 127.0.0.1, which a bind to 127.0.0.1 would refuse.
        Rendezvous.Config peer = new Rendezvous.Config(1, 2, "127.0.0.2", port);
        CompletableFuture<byte[]> served = CompletableFuture.supplyAsync(
                () -> Rendezvous.exchange(root, () -> new byte[] {4, 5, 6}, Duration.ofSeconds(10)));
        byte[] fetched = Rendezvous.exchange(peer, () -> new byte[0], Duration.ofSeconds(10));
        assertArrayEquals(new byte[] {4, 5, 6}, fetched);
        assertArrayEquals(new byte[] {4, 5, 6}, served.get(10, TimeUnit.SECONDS));
    }

    /** Strays on rank 0's port (one closing at once, one sending garbage) are dropped; the real rank is served. */
    @Test
    void strayConnectionsDoNotFailRankZero() throws Exception {
        int port = ProbeProcesses.freePort();
        Rendezvous.Config root = new Rendezvous.Config(0, 2, "127.0.0.1", port);
        CompletableFuture<byte[]> served = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                served.complete(Rendezvous.exchange(root, () -> new byte[] {7, 8}, Duration.ofSeconds(20)));
            } catch (RuntimeException e) {
                served.completeExceptionally(e);
            }
        });
        for (int attempt = 0; attempt < 100; attempt++) { // the first stray also waits for rank 0 to listen
            try (Socket s = new Socket("127.0.0.1", port)) {
                break; // closed at once: an EOF for rank 0
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write(new byte[] {1, 2, 3}); // three bytes, then gone: not even a whole int
        }
        byte[] fetched = Rendezvous.exchange(new Rendezvous.Config(1, 2, "127.0.0.1", port), () -> new byte[0],
                Duration.ofSeconds(20));
        assertArrayEquals(new byte[] {7, 8}, fetched);
        assertArrayEquals(new byte[] {7, 8}, served.get(20, TimeUnit.SECONDS));
    }

    @Test
    void aShortReadIsAnErrorNamingTheMasterNotATruncatedId() throws Exception {
        try (ServerSocket fake = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = fake.getLocalPort();
            Thread server = Thread.ofPlatform().daemon().start(() -> {
                try (Socket s = fake.accept()) {
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    in.readInt(); // magic
                    in.readInt(); // rank
                    DataOutputStream out = new DataOutputStream(s.getOutputStream());
                    out.writeInt(128);
                    out.write(new byte[10]); // then the connection closes: 118 bytes short
                    out.flush();
                } catch (IOException e) {
                    // the test's assertion says what went wrong
                }
            });
            Rendezvous.Config peer = new Rendezvous.Config(1, 2, "127.0.0.1", port);
            var e = assertThrows(CollectiveException.class,
                    () -> Rendezvous.exchange(peer, () -> new byte[0], Duration.ofSeconds(10)));
            assertEquals("rendezvous: rank 1 got 10 of the 128 bytes rank 0 at 127.0.0.1:" + port
                    + " announced before the connection closed", e.getMessage());
            server.join(5000);
        }
    }

    @Test
    void aMissingRankZeroIsATimeoutNamingTheAddress() throws Exception {
        int port = ProbeProcesses.freePort();
        Rendezvous.Config peer = new Rendezvous.Config(1, 2, "127.0.0.1", port);
        long start = System.nanoTime();
        var e = assertThrows(CollectiveException.class,
                () -> Rendezvous.exchange(peer, () -> new byte[0], Duration.ofMillis(700)));
        assertTrue(e.getMessage().contains("could not reach rank 0 at 127.0.0.1:" + port), e.getMessage());
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 5000);
    }

    @Test
    void rankZeroTimesOutNamingTheRanksThatNeverCame() throws Exception {
        Rendezvous.Config root = new Rendezvous.Config(0, 3, "127.0.0.1", ProbeProcesses.freePort());
        var e = assertThrows(CollectiveException.class,
                () -> Rendezvous.exchange(root, () -> new byte[] {1, 2}, Duration.ofMillis(500)));
        assertTrue(e.getMessage().contains("waiting for ranks [1, 2]"), e.getMessage());
    }

    @Test
    void configurationComesFromTpkOrTorchrunNames() {
        assertEquals(new Rendezvous.Config(2, 4, "10.0.0.1", 29500), Rendezvous.Config.fromEnvironment(
                Map.of("RANK", "2", "WORLD_SIZE", "4", "MASTER_ADDR", "10.0.0.1", "MASTER_PORT", "29500")));
        assertEquals(1, Rendezvous.Config.fromEnvironment(Map.of("TPK_RANK", "1", "RANK", "3", "TPK_WORLD_SIZE", "2",
                "TPK_MASTER_ADDR", "h", "TPK_MASTER_PORT", "1")).rank(), "TPK_ names win");
        var missing = assertThrows(IllegalArgumentException.class,
                () -> Rendezvous.Config.fromEnvironment(Map.of("RANK", "0", "WORLD_SIZE", "1", "MASTER_PORT", "1")));
        assertEquals("no master address: neither TPK_MASTER_ADDR nor MASTER_ADDR is set (RANK and WORLD_SIZE name no"
                + " host)", missing.getMessage());
        var bad = assertThrows(IllegalArgumentException.class, () -> Rendezvous.Config.fromEnvironment(
                Map.of("RANK", "x", "WORLD_SIZE", "1", "MASTER_ADDR", "h", "MASTER_PORT", "1")));
        assertEquals("RANK must be an integer, got \"x\"", bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Rendezvous.Config(2, 2, "h", 1));
    }
}
