/*
 * ViewClient: a hybridagg view seen by a JDBC client, the way a BI tool sees it.
 *
 *   javac -d OUT test/jdbc/ViewClient.java
 *   java -cp /usr/share/java/postgresql.jar:OUT ViewClient \
 *        --url jdbc:postgresql://127.0.0.1:5432/postgres --user bi --password secret \
 *        --view events_1m --query 'SELECT date_bin(..) AS bucket, device_id, .. GROUP BY 1, 2' \
 *        [--table events] [--writer-user app] [--writer-password secret2]
 *
 * Every option may come from the environment instead (better for passwords):
 * HYBRIDAGG_URL, HYBRIDAGG_USER, HYBRIDAGG_PASSWORD, HYBRIDAGG_VIEW,
 * HYBRIDAGG_QUERY, HYBRIDAGG_TABLE (default events), HYBRIDAGG_WRITER_USER and
 * HYBRIDAGG_WRITER_PASSWORD (default: the reader's).  The writer must own the
 * aggregate (it calls hybridagg.materialize); the base table has the columns
 * ts timestamptz, device_id int, value float8; the view has bucket
 * (timestamptz) and device_id.
 *
 * What it checks, over TCP, always against the raw defining query:
 *  1. DatabaseMetaData: getTables lists the view once, as a VIEW, with a
 *     comment; getColumns of the view equals getColumns of a temporary view
 *     made from the raw query, and names, DATA_TYPE and TYPE_NAME equal the
 *     raw query's ResultSetMetaData.
 *  2. The same PreparedStatement, "SELECT * FROM view WHERE bucket >= ? AND
 *     bucket < ? ORDER BY bucket, device_id", run 32 times with different
 *     parameters (16 rounds: a range that differs each round, then all
 *     buckets), returns what the raw query (as a subquery, same predicate)
 *     returns, row by row, floats within 1e-9 relative; a round reads one
 *     REPEATABLE READ snapshot.  Between rounds a second connection writes:
 *     INSERT, late rows, UPDATE, DELETE, COPY, TRUNCATE, rolled-back writes,
 *     materialize.  ResultSetMetaData of both result sets is equal.
 *  3. The driver switched to a server-side prepared statement (after
 *     prepareThreshold = 5 executions), and the server ran it with a generic
 *     plan (pg_prepared_statements; plan_cache_mode = force_generic_plan for
 *     the last rounds, in case the server kept choosing custom plans).
 *
 * Exit status: 0 every check held (a summary line starting with "ok:" is
 * printed), 1 a check failed, 2 bad usage or an SQL error.
 */

import java.io.StringReader;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

import org.postgresql.PGConnection;
import org.postgresql.PGStatement;

public final class ViewClient
{
	/*
	 * Rounds of two executions of each prepared statement: a round's range of
	 * buckets, then all of them.  The last FORCED_GENERIC rounds force a
	 * generic plan.
	 */
	static final int ROUNDS = 16;
	static final int EXECUTIONS = 2 * ROUNDS;
	static final int FORCED_GENERIC = 4;

	/* the bucket ranges queried, in minutes from the start of the current minute */
	static final long[][] WINDOWS = {
		{-5 * 24 * 60, 60},		/* everything */
		{-200, -100},			/* history only */
		{-30, 5},				/* across the watermark */
		{-5, 5},				/* recent only */
		{-120, -119},			/* one bucket */
		{10, 20},				/* the future: empty */
		{-100, -200},			/* reversed: empty */
		{-5 * 24 * 60, -150},	/* old and late rows */
	};

	/* the second half of the rounds shifts every range off bucket boundaries */
	static final long OFF_BOUNDARY_SECONDS = 37;

	static final DateTimeFormatter COPY_TIME =
		DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSSxxx");

	/** A check that did not hold: exit status 1. */
	static final class CheckFailed extends Exception
	{
		private static final long serialVersionUID = 1L;

		CheckFailed(String message)
		{
			super(message);
		}
	}

	static void check(boolean condition, String message) throws CheckFailed
	{
		if (!condition)
			throw new CheckFailed(message);
	}

	public static void main(String[] args)
	{
		try
		{
			new ViewClient(Options.parse(args)).run();
			System.exit(0);
		}
		catch (CheckFailed e)
		{
			System.err.println("FAIL: " + e.getMessage());
			System.exit(1);
		}
		catch (IllegalArgumentException e)
		{
			System.err.println("usage error: " + e.getMessage());
			System.err.println("usage: java -cp postgresql.jar:. ViewClient --url URL --user USER --password PASSWORD"
							   + " --view VIEW --query RAW_QUERY [--table TABLE] [--writer-user USER] [--writer-password PASSWORD]");
			System.exit(2);
		}
		catch (SQLException e)
		{
			System.err.println("ERROR: SQL state " + e.getSQLState() + ": " + e.getMessage());
			System.exit(2);
		}
	}

	/* ------------------------------------------------------------------
	 * Options
	 * ------------------------------------------------------------------
	 */

	record Options(String url, String user, String password, String view, String query,
				   String table, String writerUser, String writerPassword)
	{
		static Options parse(String[] args)
		{
			Map<String, String> given = new HashMap<>();

			for (int i = 0; i < args.length; i += 2)
			{
				if (!args[i].startsWith("--") || i + 1 >= args.length)
					throw new IllegalArgumentException("expected --option value, got \"" + args[i] + "\"");
				given.put(args[i].substring(2), args[i + 1]);
			}
			List<String> known = List.of("url", "user", "password", "view", "query", "table",
										 "writer-user", "writer-password");

			for (String option : given.keySet())
				if (!known.contains(option))
					throw new IllegalArgumentException("unknown option --" + option);
			for (String option : known)
				if (given.get(option) == null)
					given.put(option, System.getenv("HYBRIDAGG_" + option.toUpperCase().replace('-', '_')));
			for (String required : List.of("url", "user", "password", "view", "query"))
				if (given.get(required) == null)
					throw new IllegalArgumentException("--" + required + " is missing");
			if (!given.get("url").startsWith("jdbc:postgresql://"))
				throw new IllegalArgumentException("the URL must be jdbc:postgresql://HOST:PORT/DB (TCP)");
			String writerUser = Objects.requireNonNullElse(given.get("writer-user"), given.get("user"));
			String writerPassword = given.get("writer-password") != null ? given.get("writer-password")
				: given.get("writer-user") == null ? given.get("password") : null;

			if (writerPassword == null)
				throw new IllegalArgumentException("--writer-password is missing");
			return new Options(given.get("url"), given.get("user"), given.get("password"),
							   given.get("view"), given.get("query"),
							   Objects.requireNonNullElse(given.get("table"), "events"),
							   writerUser, writerPassword);
		}
	}

	/* ------------------------------------------------------------------
	 * The run
	 * ------------------------------------------------------------------
	 */

	final Options options;
	String mode;				/* the aggregate's mode, from hybridagg.aggregates */
	OffsetDateTime t0;			/* the start of the minute when the client started */

	ViewClient(Options options)
	{
		this.options = options;
	}

	static Connection connect(String url, String user, String password, String application)
		throws SQLException
	{
		Properties props = new Properties();

		props.setProperty("user", user);
		props.setProperty("password", password);
		props.setProperty("ApplicationName", application);
		return DriverManager.getConnection(url, props);
	}

	void run() throws SQLException, CheckFailed
	{
		try (Connection reader = connect(options.url(), options.user(), options.password(), "ViewClient reader");
			 Connection writer = connect(options.url(), options.writerUser(), options.writerPassword(), "ViewClient writer"))
		{
			String server = checkTcp(reader);

			/*
			 * The writer's session settings must not matter (DESIGN.md, invariant
			 * 5).  DateStyle stays ISO: the driver requires it.
			 */
			try (Statement s = writer.createStatement())
			{
				s.execute("SET TimeZone = 'Pacific/Chatham'");
				s.execute("SET IntervalStyle = 'postgres_verbose'");
				s.execute("SET extra_float_digits = -15");
			}
			mode = aggregateMode(writer);
			t0 = queryOne(reader, "SELECT date_trunc('minute', now())", OffsetDateTime.class);

			int columns = checkMetadata(reader);
			long rows = compareRounds(reader, writer);

			System.out.printf("ok: %s (mode %s) over TCP %s as %s: %d executions of one prepared statement, "
							  + "%d rows equal to the raw query's, %d writes in between; "
							  + "DatabaseMetaData: a VIEW with %d columns typed as the raw query's%n",
							  options.view(), mode, server, options.user(), EXECUTIONS, rows, ROUNDS - 1, columns);
		}
	}

	/* The connection really is TCP (inet_server_addr is NULL on a Unix socket). */
	static String checkTcp(Connection c) throws SQLException, CheckFailed
	{
		try (Statement s = c.createStatement();
			 ResultSet rs = s.executeQuery("SELECT host(inet_server_addr()) || ':' || inet_server_port(), "
										   + "current_setting('TimeZone')"))
		{
			rs.next();
			check(rs.getString(1) != null, "the connection is not over TCP (inet_server_addr() is NULL)");
			System.out.println("connected to " + rs.getString(1) + ", session TimeZone " + rs.getString(2)
							   + ", driver " + c.getMetaData().getDriverVersion()
							   + ", prepareThreshold " + c.unwrap(PGConnection.class).getPrepareThreshold());
			return rs.getString(1);
		}
	}

	String aggregateMode(Connection writer) throws SQLException, CheckFailed
	{
		try (PreparedStatement ps = writer.prepareStatement(
				 "SELECT mode FROM hybridagg.aggregates WHERE view = to_regclass(?)"))
		{
			ps.setString(1, options.view());
			try (ResultSet rs = ps.executeQuery())
			{
				check(rs.next(), options.view() + " is not a hybridagg aggregate (not in hybridagg.aggregates)");
				return rs.getString(1);
			}
		}
	}

	static <T> T queryOne(Connection c, String sql, Class<T> type) throws SQLException
	{
		try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql))
		{
			rs.next();
			return rs.getObject(1, type);
		}
	}

	/* ------------------------------------------------------------------
	 * DatabaseMetaData and ResultSetMetaData
	 * ------------------------------------------------------------------
	 */

	/* What getColumns says of one column. */
	record Column(String name, int dataType, String typeName, int size, int digits,
				  int nullable, int position)
	{
		String nameAndTypes()
		{
			return name + " " + typeName + " (java.sql.Types " + dataType + ")";
		}
	}

	/* A name for a DatabaseMetaData pattern argument: "_" and "%" are wildcards there. */
	static String pattern(DatabaseMetaData md, String name) throws SQLException
	{
		String escape = md.getSearchStringEscape();

		return name.replace(escape, escape + escape).replace("_", escape + "_").replace("%", escape + "%");
	}

	static List<Column> columnsOf(DatabaseMetaData md, String schema, String relation) throws SQLException
	{
		List<Column> columns = new ArrayList<>();

		try (ResultSet rs = md.getColumns(null, pattern(md, schema), pattern(md, relation), "%"))
		{
			while (rs.next())
				columns.add(new Column(rs.getString("COLUMN_NAME"), rs.getInt("DATA_TYPE"),
									   rs.getString("TYPE_NAME"), rs.getInt("COLUMN_SIZE"),
									   rs.getInt("DECIMAL_DIGITS"), rs.getInt("NULLABLE"),
									   rs.getInt("ORDINAL_POSITION")));
		}
		return columns;
	}

	static int countTables(DatabaseMetaData md, String schema, String relation, String[] types)
		throws SQLException
	{
		int n = 0;

		try (ResultSet rs = md.getTables(null, pattern(md, schema), pattern(md, relation), types))
		{
			while (rs.next())
				n++;
		}
		return n;
	}

	int checkMetadata(Connection reader) throws SQLException, CheckFailed
	{
		DatabaseMetaData md = reader.getMetaData();
		String schema;
		String relation;

		try (PreparedStatement ps = reader.prepareStatement(
				 "SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c "
				 + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(?)"))
		{
			ps.setString(1, options.view());
			try (ResultSet rs = ps.executeQuery())
			{
				check(rs.next(), "no relation named " + options.view());
				schema = rs.getString(1);
				relation = rs.getString(2);
				check(rs.getString(3).equals("v"), options.view() + " has relkind " + rs.getString(3) + ", not v");
			}
		}

		/* getTables: listed once, as a VIEW, with the comment that says what it is */
		try (ResultSet rs = md.getTables(null, pattern(md, schema), pattern(md, relation), null))
		{
			check(rs.next(), "getTables does not list " + schema + "." + relation);
			check(rs.getString("TABLE_SCHEM").equals(schema) && rs.getString("TABLE_NAME").equals(relation),
				  "getTables lists " + rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME")
				  + " for " + schema + "." + relation);
			check("VIEW".equals(rs.getString("TABLE_TYPE")),
				  "getTables: TABLE_TYPE of " + relation + " is " + rs.getString("TABLE_TYPE") + ", not VIEW");
			String remarks = rs.getString("REMARKS");
			check(remarks != null && !remarks.isBlank(), "getTables: " + relation + " has no REMARKS (COMMENT ON VIEW)");
			check(!rs.next(), "getTables lists " + relation + " more than once");
		}
		check(countTables(md, schema, relation, new String[] {"VIEW"}) == 1,
			  "getTables(types = {VIEW}) does not list " + relation);
		check(countTables(md, schema, relation, new String[] {"TABLE"}) == 0,
			  "getTables(types = {TABLE}) lists " + relation);

		/* getColumns of the view against getColumns of the raw query made a view */
		List<Column> viewColumns = columnsOf(md, schema, relation);
		List<Column> rawColumns;

		try (Statement s = reader.createStatement())
		{
			s.execute("CREATE TEMPORARY VIEW hybridagg_raw_query AS " + options.query());
			rawColumns = columnsOf(md, queryOne(reader, "SELECT pg_my_temp_schema()::regnamespace::text", String.class),
								   "hybridagg_raw_query");
			s.execute("DROP VIEW hybridagg_raw_query");
		}
		check(!viewColumns.isEmpty(), "getColumns returns no column for " + relation);
		check(viewColumns.size() == rawColumns.size(),
			  "getColumns: the view has " + viewColumns.size() + " columns, the raw query " + rawColumns.size());
		for (int i = 0; i < viewColumns.size(); i++)
		{
			check(viewColumns.get(i).equals(rawColumns.get(i)),
				  "getColumns: column " + (i + 1) + " of the view is " + viewColumns.get(i)
				  + ", of the raw query " + rawColumns.get(i));
		}

		/* ... and against ResultSetMetaData of the raw query */
		try (PreparedStatement ps = reader.prepareStatement(options.query()))
		{
			ResultSetMetaData raw = ps.getMetaData();

			check(raw.getColumnCount() == viewColumns.size(),
				  "the raw query returns " + raw.getColumnCount() + " columns, getColumns of the view lists "
				  + viewColumns.size());
			for (int i = 1; i <= raw.getColumnCount(); i++)
			{
				Column v = viewColumns.get(i - 1);
				String fromRaw = raw.getColumnLabel(i) + " " + raw.getColumnTypeName(i)
					+ " (java.sql.Types " + raw.getColumnType(i) + ")";

				check(v.nameAndTypes().equals(fromRaw),
					  "column " + i + ": getColumns of the view says " + v.nameAndTypes()
					  + ", ResultSetMetaData of the raw query " + fromRaw);
			}
		}

		check(viewColumns.stream().anyMatch(c -> c.name().equals("bucket") && c.typeName().equals("timestamptz")),
			  "the view has no column bucket of type timestamptz");
		check(viewColumns.stream().anyMatch(c -> c.name().equals("device_id")), "the view has no column device_id");
		for (Column c : viewColumns)
			System.out.println("column " + c.position() + ": " + c.nameAndTypes() + ", size " + c.size()
							   + ", digits " + c.digits() + ": as the raw query's");
		return viewColumns.size();
	}

	/* Everything a client learns of the columns of a result, equal for the view and the raw query. */
	static void compareResultMetadata(ResultSetMetaData view, ResultSetMetaData raw, String where)
		throws SQLException, CheckFailed
	{
		check(view.getColumnCount() == raw.getColumnCount(),
			  where + ": the view returns " + view.getColumnCount() + " columns, the raw query " + raw.getColumnCount());
		for (int i = 1; i <= view.getColumnCount(); i++)
		{
			String v = String.join(" ", view.getColumnLabel(i), view.getColumnName(i), view.getColumnTypeName(i),
								   "type " + view.getColumnType(i), "precision " + view.getPrecision(i),
								   "scale " + view.getScale(i), view.getColumnClassName(i));
			String r = String.join(" ", raw.getColumnLabel(i), raw.getColumnName(i), raw.getColumnTypeName(i),
								   "type " + raw.getColumnType(i), "precision " + raw.getPrecision(i),
								   "scale " + raw.getScale(i), raw.getColumnClassName(i));

			check(v.equals(r), where + ": ResultSetMetaData of column " + i + ": view [" + v + "], raw query [" + r + "]");
		}
	}

	/* ------------------------------------------------------------------
	 * Prepared executions, with writes in between
	 * ------------------------------------------------------------------
	 */

	interface SqlAction
	{
		int run(Connection writer) throws SQLException;
	}

	/* A write; below the watermark, a batch aggregate needs a materialize to see it. */
	record Write(String description, boolean belowWatermark, SqlAction action) {}

	List<Write> writes()
	{
		String t = options.table();
		String bin = "date_bin('1 minute', ts, '2000-01-01 00:00+00')";

		return List.of(
			new Write("INSERT 300 new rows", false, w -> update(w,
				"INSERT INTO " + t + " (ts, device_id, value) SELECT now() - g * interval '1 second', g % 8, g * 0.37 "
				+ "FROM generate_series(1, 300) g")),
			new Write("INSERT 60 late rows, 2 to 3 hours old, with new maxima", true, w -> update(w,
				"INSERT INTO " + t + " (ts, device_id, value) SELECT now() - interval '2 hours' - g * interval '61 seconds', "
				+ "g % 9, 1000 + g FROM generate_series(1, 60) g")),
			new Write("UPDATE every value of device 3", true, w -> update(w,
				"UPDATE " + t + " SET value = value * 3 + 1 WHERE device_id = 3")),
			new Write("DELETE the largest value of every group of devices 5 and 6", true, w -> update(w,
				"DELETE FROM " + t + " WHERE ctid IN (SELECT DISTINCT ON (" + bin + ", device_id) ctid FROM " + t
				+ " WHERE device_id IN (5, 6) ORDER BY " + bin + ", device_id, value DESC NULLS LAST)")),
			new Write("UPDATE recent rows of device 2 to 90 minutes earlier and device 102", true, w -> update(w,
				"UPDATE " + t + " SET ts = ts - interval '90 minutes', device_id = device_id + 100 "
				+ "WHERE device_id = 2 AND ts > now() - interval '30 minutes'")),
			new Write("CALL hybridagg.materialize(view): seal what is due", false, w -> materialize(w, false)),
			new Write("COPY 6 rows: 3 days old, late, out of order, NULL values and keys", true, this::copyRows),
			new Write("DELETE every row of device 1 from 150 to 120 minutes ago", true, w -> update(w,
				"DELETE FROM " + t + " WHERE device_id = 1 AND ts >= now() - interval '150 minutes' "
				+ "AND ts < now() - interval '120 minutes'")),
			new Write("INSERT, UPDATE and DELETE in one transaction", true, w -> transaction(w, true,
				"INSERT INTO " + t + " (ts, device_id, value) SELECT now() - g * interval '20 seconds', 9, g "
				+ "FROM generate_series(1, 50) g",
				"UPDATE " + t + " SET value = -value WHERE device_id = 9 AND value > 25",
				"DELETE FROM " + t + " WHERE device_id = 9 AND value < -40")),
			new Write("TRUNCATE and reload without device 7, in one transaction", true, w -> transaction(w, true,
				"CREATE TEMPORARY TABLE hybridagg_keep ON COMMIT DROP AS SELECT * FROM " + t,
				"TRUNCATE " + t,
				"INSERT INTO " + t + " SELECT * FROM hybridagg_keep WHERE device_id IS DISTINCT FROM 7")),
			new Write("INSERT and DELETE, rolled back", false, w -> transaction(w, false,
				"INSERT INTO " + t + " (ts, device_id, value) SELECT now() - g * interval '1 minute', 0, 1e6 "
				+ "FROM generate_series(1, 100) g",
				"DELETE FROM " + t + " WHERE device_id = 0")),
			new Write("CALL hybridagg.materialize(view, now() - 4 hours, now()): exact recompute", false,
				w -> materialize(w, true)),
			new Write("UPDATE recent values of device 4 to NULL", true, w -> update(w,
				"UPDATE " + t + " SET value = NULL WHERE device_id = 4 AND ts > now() - interval '100 minutes'")),
			new Write("INSERT rows on bucket boundaries and 1 microsecond before", true, w -> update(w,
				"INSERT INTO " + t + " (ts, device_id, value) SELECT date_bin('1 minute', now(), '2000-01-01 00:00+00') "
				+ "- g * interval '1 minute' + e * interval '1 microsecond', 11, g + e "
				+ "FROM generate_series(0, 20) g, (VALUES (-1), (0)) v(e)")),
			new Write("DELETE every row older than 150 minutes", true, w -> update(w,
				"DELETE FROM " + t + " WHERE ts < now() - interval '150 minutes'")));
	}

	static int update(Connection w, String sql) throws SQLException
	{
		try (Statement s = w.createStatement())
		{
			return s.executeUpdate(sql);
		}
	}

	static int transaction(Connection w, boolean commit, String... statements) throws SQLException
	{
		int changed = 0;

		w.setAutoCommit(false);
		try
		{
			for (String sql : statements)
				changed += update(w, sql);
			if (commit)
				w.commit();
			else
				w.rollback();
		}
		catch (SQLException e)
		{
			w.rollback();
			throw e;
		}
		finally
		{
			w.setAutoCommit(true);
		}
		return commit ? changed : 0;
	}

	int materialize(Connection w, boolean range) throws SQLException
	{
		try (PreparedStatement ps = w.prepareStatement(range
				 ? "CALL hybridagg.materialize(?, now() - interval '4 hours', now())"
				 : "CALL hybridagg.materialize(?)"))
		{
			ps.setString(1, options.view());
			ps.execute();
		}
		return 0;
	}

	/* A batch aggregate is as fresh as its last batch below the watermark: recompute all the client touches. */
	void recomputeForBatch(Connection w) throws SQLException
	{
		try (PreparedStatement ps = w.prepareStatement("CALL hybridagg.materialize(?, ?, ?)"))
		{
			ps.setString(1, options.view());
			ps.setObject(2, t0.minusDays(5), Types.TIMESTAMP_WITH_TIMEZONE);
			ps.setObject(3, t0.plusDays(1), Types.TIMESTAMP_WITH_TIMEZONE);
			ps.execute();
		}
	}

	int copyRows(Connection w) throws SQLException
	{
		OffsetDateTime[] times = {
			t0.minusDays(3).plusSeconds(10), t0.minusHours(2).plusSeconds(5), t0.plusSeconds(10),
			t0.minusMinutes(61), t0.minusDays(3).plusSeconds(20), t0.minusMinutes(7)};
		String[] devicesAndValues = {"1,5.5", "4,", "4,7.25", "8,-3.5", "1,", ",42"};
		StringBuilder csv = new StringBuilder();

		for (int i = 0; i < times.length; i++)
			csv.append(times[i].withOffsetSameInstant(ZoneOffset.UTC).format(COPY_TIME))
				.append(',').append(devicesAndValues[i]).append('\n');
		try
		{
			return (int) w.unwrap(PGConnection.class).getCopyAPI().copyIn(
				"COPY " + options.table() + " (ts, device_id, value) FROM STDIN (FORMAT csv)",
				new StringReader(csv.toString()));
		}
		catch (java.io.IOException e)
		{
			throw new SQLException("COPY failed: " + e.getMessage(), e);
		}
	}

	long compareRounds(Connection reader, Connection writer) throws SQLException, CheckFailed
	{
		String predicate = " WHERE bucket >= ? AND bucket < ? ORDER BY bucket, device_id";
		String viewSql = "SELECT * FROM " + options.view() + predicate;
		String rawSql = "SELECT * FROM (" + options.query() + ") AS raw" + predicate;
		List<Write> writes = writes();
		long rows = 0;
		int nonEmpty = 0;

		/* both queries of a round read one snapshot */
		reader.setAutoCommit(false);
		reader.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
		if (mode.equals("batch"))
			recomputeForBatch(writer);

		try (PreparedStatement view = reader.prepareStatement(viewSql);
			 PreparedStatement raw = reader.prepareStatement(rawSql))
		{
			for (int round = 0; round < ROUNDS; round++)
			{
				String wrote = "";

				if (round > 0)
				{
					Write write = writes.get((round - 1) % writes.size());
					int changed = write.action().run(writer);

					wrote = ", after " + write.description() + " (" + changed + " rows)";
					if (mode.equals("batch") && write.belowWatermark())
					{
						recomputeForBatch(writer);
						wrote += " and a batch recompute";
					}
				}
				if (round == ROUNDS - FORCED_GENERIC)
				{
					update(reader, "SET plan_cache_mode = force_generic_plan");
					reader.commit();
				}

				long[] window = WINDOWS[round % WINDOWS.length];
				long shift = round >= WINDOWS.length ? OFF_BOUNDARY_SECONDS : 0;
				String where = "round " + round + wrote;
				int n = compareOnce(view, raw, t0.plusMinutes(window[0]).plusSeconds(shift),
									t0.plusMinutes(window[1]).plusSeconds(shift), where);

				/* and every bucket the writes touch, in the same snapshot */
				rows += n + compareOnce(view, raw, t0.minusDays(5), t0.plusDays(1).plusSeconds(round), where);
				reader.commit();
				if (n > 0)
					nonEmpty++;
			}
			/* the ranges are chosen so that most hold rows: equal empty results prove nothing */
			check(nonEmpty >= ROUNDS / 2, "only " + nonEmpty + " of " + ROUNDS + " rounds returned rows");
			checkServerPrepared(reader, view, viewSql, "view");
			checkServerPrepared(reader, raw, rawSql, "raw query");
			reader.commit();
		}
		return rows;
	}

	/* One execution of each statement with the same range; returns the number of rows. */
	static int compareOnce(PreparedStatement view, PreparedStatement raw, OffsetDateTime from,
						   OffsetDateTime to, String round) throws SQLException, CheckFailed
	{
		String where = round + ": [" + from + ", " + to + ")";
		int n;

		for (PreparedStatement ps : List.of(view, raw))
		{
			ps.setObject(1, from, Types.TIMESTAMP_WITH_TIMEZONE);
			ps.setObject(2, to, Types.TIMESTAMP_WITH_TIMEZONE);
		}
		try (ResultSet v = view.executeQuery(); ResultSet r = raw.executeQuery())
		{
			n = compareResults(v, r, where);
		}
		System.out.println(where + ": " + n + " rows equal");
		return n;
	}

	static int compareResults(ResultSet view, ResultSet raw, String where) throws SQLException, CheckFailed
	{
		ResultSetMetaData md = view.getMetaData();
		int row = 0;

		compareResultMetadata(md, raw.getMetaData(), where);
		for (;;)
		{
			boolean inView = view.next();
			boolean inRaw = raw.next();

			if (!inView && !inRaw)
				return row;
			row++;
			check(inView, where + ": the view ends at row " + row + ", the raw query goes on with " + key(raw));
			check(inRaw, where + ": the view has more rows than the raw query, from row " + row + ": " + key(view));
			for (int i = 1; i <= md.getColumnCount(); i++)
			{
				Object v = view.getObject(i);
				Object r = raw.getObject(i);

				check(sameValue(v, r), where + ": row " + row + ", column " + md.getColumnLabel(i)
					  + ": the view has " + key(view) + " " + v + ", the raw query " + key(raw) + " " + r);
			}
		}
	}

	static String key(ResultSet rs) throws SQLException
	{
		return "(bucket " + rs.getObject("bucket", OffsetDateTime.class) + ", device_id " + rs.getObject("device_id") + ")";
	}

	/* floats within 1e-9 relative, anything else exactly */
	static boolean sameValue(Object a, Object b)
	{
		if (a instanceof Double || a instanceof Float)
		{
			if (!(b instanceof Double || b instanceof Float))
				return false;
			double x = ((Number) a).doubleValue();
			double y = ((Number) b).doubleValue();

			return Double.compare(x, y) == 0 || Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
		}
		return Objects.equals(a, b);
	}

	/* The driver used a server-side prepared statement, and the server a generic plan. */
	static void checkServerPrepared(Connection reader, PreparedStatement ps, String sql, String what)
		throws SQLException, CheckFailed
	{
		PGStatement pg = ps.unwrap(PGStatement.class);
		int threshold = pg.getPrepareThreshold();

		check(pg.isUseServerPrepare(), "the driver did not prepare the " + what + " on the server after "
			  + EXECUTIONS + " executions (prepareThreshold " + threshold + ")");

		/* the driver sends "?" as $1, $2 .. */
		StringBuilder sent = new StringBuilder();
		int parameter = 0;

		for (char c : sql.toCharArray())
		{
			if (c == '?')
				sent.append('$').append(++parameter);
			else
				sent.append(c);
		}
		try (PreparedStatement q = reader.prepareStatement(
				 "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements "
				 + "WHERE NOT from_sql AND statement = ?"))
		{
			q.setString(1, sent.toString());
			try (ResultSet rs = q.executeQuery())
			{
				check(rs.next(), "pg_prepared_statements has no statement for the " + what + ": " + sent);
				long generic = rs.getLong("generic_plans");
				long custom = rs.getLong("custom_plans");
				long expected = EXECUTIONS - (threshold - 1);

				check(generic + custom >= expected, "the server-side statement " + rs.getString("name") + " of the "
					  + what + " ran " + (generic + custom) + " times, expected " + expected);
				check(generic >= 2 * FORCED_GENERIC, "the " + what + " ran " + generic + " times with a generic plan, "
					  + "expected at least " + 2 * FORCED_GENERIC + " (plan_cache_mode = force_generic_plan)");
				System.out.println(what + ": server-side prepared statement " + rs.getString("name") + ", "
								   + custom + " custom plans, " + generic + " generic plans");
			}
		}
	}
}
