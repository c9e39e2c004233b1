import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.postgresql.util.PSQLException;

/**
 * A Java service's tenant transactions under concurrent load, through a HikariCP pool with the settings in the
 * properties file given as the first argument (HikariCP's own property names, jdbcUrl included), as
 * docs/database.md tells a service to run them: sign a context (HmacSHA256, as the authenticating service does),
 * apply it with set_tenant_context as the first statement of the transaction, read, commit. One transaction in
 * five applies no context and must see nothing. Prints what it saw as one JSON object.
 *
 * Second argument: the load as a properties file: key.hex, key.version, tenants (comma-separated ids), threads,
 * transactions (in all), seconds (a bound on the run).
 */
public final class TenantLoad {
  private final AtomicLong started = new AtomicLong();
  private final AtomicLong committed = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  /** Failures the driver raised itself (its view of the protocol stream no longer matched the server's). */
  private final AtomicLong clientErrors = new AtomicLong();
  private final AtomicLong withoutContext = new AtomicLong();
  private final AtomicLong ownRows = new AtomicLong();
  private final AtomicLong foreignRows = new AtomicLong();
  private final AtomicLong foreignRowTransactions = new AtomicLong();
  private final AtomicLong staleContexts = new AtomicLong();
  private final Map<String, AtomicLong> errors = new ConcurrentHashMap<>();

  private final HikariDataSource pool;
  private final byte[] key;
  private final int keyVersion;
  private final String[] tenants;

  private TenantLoad(HikariDataSource pool, byte[] key, int keyVersion, String[] tenants) {
    this.pool = pool;
    this.key = key;
    this.keyVersion = keyVersion;
    this.tenants = tenants;
  }

  /** awtc1.<version>.<tenant>.<actor>.<expiry>.<hex HMAC-SHA-256 of everything before the last dot>. */
  private String sign(String tenant) throws Exception {
    long expiry = System.currentTimeMillis() / 1000 + 300;
    String payload = "awtc1." + keyVersion + "." + tenant + ".." + expiry;
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    StringBuilder hex = new StringBuilder(payload).append('.');
    for (byte b : mac.doFinal(payload.getBytes(StandardCharsets.UTF_8))) hex.append(String.format("%02x", b));
    return hex.toString();
  }

  /** One transaction; `tenant` null applies no context. Counts rows and contexts that are not this tenant's. */
  private void transaction(String tenant) throws Exception {
    try (Connection connection = pool.getConnection()) {
      // Spring's transaction manager does the same when the pool hands out auto-commit connections.
      if (connection.getAutoCommit()) connection.setAutoCommit(false);
      try {
        if (tenant != null) {
          try (PreparedStatement apply = connection.prepareStatement("SELECT accessweaver.set_tenant_context(?)")) {
            apply.setString(1, sign(tenant));
            apply.executeQuery().close();
          }
        }
        check(connection, tenant);
        connection.commit();
        committed.incrementAndGet();
      } catch (SQLException error) {
        try {
          connection.rollback();
        } catch (SQLException ignored) {
          // The connection is broken; HikariCP evicts it.
        }
        throw error;
      }
    }
  }

  private void check(Connection connection, String tenant) throws SQLException {
    try (PreparedStatement current = connection.prepareStatement("SELECT accessweaver.current_tenant_id()::text");
        ResultSet rs = current.executeQuery()) {
      rs.next();
      String seen = rs.getString(1);
      if (tenant == null ? seen != null : !tenant.equals(seen)) staleContexts.incrementAndGet();
    }
    long foreign = 0;
    try (PreparedStatement read = connection.prepareStatement("SELECT tenant_id::text FROM accessweaver.users");
        ResultSet rs = read.executeQuery()) {
      while (rs.next()) {
        if (rs.getString(1).equals(tenant)) ownRows.incrementAndGet();
        else foreign += 1;
      }
    }
    if (foreign > 0) {
      foreignRows.addAndGet(foreign);
      foreignRowTransactions.incrementAndGet();
    }
  }

  private void worker(long total, long deadline) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    while (System.nanoTime() < deadline && started.incrementAndGet() <= total) {
      String tenant = random.nextInt(5) == 0 ? null : tenants[random.nextInt(tenants.length)];
      if (tenant == null) withoutContext.incrementAndGet();
      try {
        transaction(tenant);
      } catch (Exception error) {
        failed.incrementAndGet();
        boolean server = error instanceof PSQLException && ((PSQLException) error).getServerErrorMessage() != null;
        if (!server) clientErrors.incrementAndGet();
        String state =
            error instanceof SQLException ? ((SQLException) error).getSQLState() : error.getClass().getName();
        String message = String.valueOf(error.getMessage()).split("\n")[0];
        message = message.replaceAll("[0-9]+", "N").replaceAll("\\p{Cntrl}", " ");
        errors.computeIfAbsent((server ? "server " : "client ") + state + " " + message, m -> new AtomicLong())
            .incrementAndGet();
      }
    }
  }

  private static Properties load(String file) throws Exception {
    Properties properties = new Properties();
    try (InputStream in = new FileInputStream(file)) {
      properties.load(in);
    }
    return properties;
  }

  private static byte[] hex(String value) {
    byte[] bytes = new byte[value.length() / 2];
    for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) Integer.parseInt(value.substring(2 * i, 2 * i + 2), 16);
    return bytes;
  }

  private static String quote(String value) {
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private String json(long transactions) {
    List<String> errorEntries = new ArrayList<>();
    errors.forEach((message, count) -> errorEntries.add(quote(message) + ":" + count.get()));
    long finished = committed.get() + failed.get();
    return "{\"planned\":" + transactions + ",\"committed\":" + committed.get() + ",\"failed\":" + failed.get()
        + ",\"clientErrors\":" + clientErrors.get()
        + ",\"unfinished\":" + (Math.min(started.get(), transactions) - finished)
        + ",\"withoutContext\":" + withoutContext.get() + ",\"ownRows\":" + ownRows.get()
        + ",\"foreignRows\":" + foreignRows.get() + ",\"foreignRowTransactions\":" + foreignRowTransactions.get()
        + ",\"staleContexts\":" + staleContexts.get() + ",\"errors\":{" + String.join(",", errorEntries) + "}}";
  }

  public static void main(String[] args) throws Exception {
    Properties load = load(args[1]);
    int threads = Integer.parseInt(load.getProperty("threads"));
    long transactions = Long.parseLong(load.getProperty("transactions"));
    long seconds = Long.parseLong(load.getProperty("seconds"));
    HikariDataSource pool = new HikariDataSource(new HikariConfig(load(args[0])));
    TenantLoad run = new TenantLoad(pool, hex(load.getProperty("key.hex")),
        Integer.parseInt(load.getProperty("key.version")), load.getProperty("tenants").split(","));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    ExecutorService executor = Executors.newFixedThreadPool(threads);
    for (int i = 0; i < threads; i++) executor.execute(() -> run.worker(transactions, deadline));
    executor.shutdown();
    // A transaction stuck on a server connection is not waited for: it shows as unfinished.
    executor.awaitTermination(seconds + 5, TimeUnit.SECONDS);
    System.out.println(run.json(transactions));
    System.out.flush();
    Runtime.getRuntime().halt(0);
  }
}
