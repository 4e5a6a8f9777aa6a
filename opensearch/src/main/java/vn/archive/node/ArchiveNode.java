package vn.archive.node;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.transport.Netty4Plugin;

/**
 * One OpenSearch node with the modules the archive needs, loaded from the class path.
 *
 * <p>Usage: {@code java -Dopensearch.path.home=DIR vn.archive.node.ArchiveNode} with
 * {@code DIR/config/opensearch.yml} holding the node's settings (written by
 * {@code scripts/opensearch-node}). Runs until the process is stopped, or, with
 * {@code -Darchive.parent.pid=PID}, until that process (a test run) is gone, so a
 * killed test run leaves no node behind.
 */
public final class ArchiveNode extends Node {

    private ArchiveNode(Path home) {
        super(
            InternalSettingsPreparer.prepareEnvironment(
                Settings.builder().put("path.home", home.toString()).build(),
                Map.of(), home.resolve("config"), () -> "archive-node"),
            List.of(Netty4Plugin.class, CommonAnalysisPlugin.class),
            false);
    }

    public static void main(String[] args) throws Exception {
        Path home = Path.of(System.getProperty("opensearch.path.home"));
        ArchiveNode node = new ArchiveNode(home);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }));
        node.start();
        String parent = System.getProperty("archive.parent.pid");
        if (parent != null && !parent.isEmpty()) {
            long pid = Long.parseLong(parent);
            Thread watch = new Thread(() -> {
                while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    try {
                        Thread.sleep(2000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                System.exit(0);
            }, "archive-parent-watch");
            watch.setDaemon(true);
            watch.start();
        }
        stopped.await();
    }
}
