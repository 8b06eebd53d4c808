using System.Globalization;
using Cimc.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Cimc.Exploration;

/// <summary>
/// The results database of a study (SQLite): a <c>points</c> table with one row per design point,
/// keyed by the hash of its canonical configuration and written with INSERT OR IGNORE, so that a
/// point is stored once however often it is evaluated, a killed run loses at most the points in
/// flight, and shards merge by key; and a <c>meta</c> table naming the study (cimc's version, the
/// model's hash, the space, the data); and an <c>accuracy</c> table of the accuracies measured, keyed by
/// the quantization, crossbar geometry and device they depend on, so a resumed or extended study
/// does not measure one twice. Each point is its own transaction (WAL journal): the file is
/// consistent whenever the process dies.
/// </summary>
public sealed class ResultStore : IDisposable
{
    public const string Code = "bad-database";

    /// <summary>The columns after key and config, in order; the CSV export and merges use the same list.</summary>
    private const string Columns = "key, config, valid, reason, latency_ns, throughput_per_s, energy_nj, area_mm2, accuracy, crossbars_used, cores_used, lower_bound_latency_ns, tops_per_w, tops_per_mm2, fidelity";

    /// <summary>
    /// A row is written once, except that a simulation replaces an estimate of the same point (never
    /// the other way round): what INSERT OR IGNORE does, plus that upgrade.
    /// </summary>
    private static readonly string Upsert = "ON CONFLICT(key) DO UPDATE SET "
        + string.Join(", ", Columns.Split(", ").Skip(1).Select(c => $"{c} = excluded.{c}"))
        + " WHERE points.fidelity = 'estimate' AND excluded.fidelity = 'simulate'";

    /// <summary>The meta keys that must agree for two runs (or two shards) to be one study.</summary>
    public static readonly string[] IdentityKeys = ["model_hash", "space", "data", "batch"];

    private readonly SqliteConnection connection;
    private readonly Lock gate = new();

    private ResultStore(SqliteConnection connection, string path)
    {
        this.connection = connection;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Opens (creating if needed) a study database.</summary>
    public static ResultStore Open(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            connection.Open();
            var store = new ResultStore(connection, path);
            store.Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
            store.Execute($"""
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS points (
                  key TEXT PRIMARY KEY, config TEXT NOT NULL, valid INTEGER NOT NULL, reason TEXT,
                  latency_ns REAL, throughput_per_s REAL, energy_nj REAL, area_mm2 REAL, accuracy REAL,
                  crossbars_used INTEGER, cores_used INTEGER, lower_bound_latency_ns REAL, tops_per_w REAL, tops_per_mm2 REAL,
                  fidelity TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS accuracy (key TEXT PRIMARY KEY, value REAL NOT NULL);
                """);
            return store;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new CimcException(Code, path, $"cannot open as a results database: {e.Message}");
        }
    }

    public Dictionary<string, string> Meta()
    {
        using SqliteCommand cmd = Command("SELECT key, value FROM meta");
        using SqliteDataReader r = cmd.ExecuteReader();
        var meta = new Dictionary<string, string>();
        while (r.Read())
        {
            meta[r.GetString(0)] = r.GetString(1);
        }

        return meta;
    }

    /// <summary>
    /// Writes the study's meta the first time; afterwards refuses a study whose identity differs
    /// (another model, space, data set or batch), so runs never mix in one file.
    /// </summary>
    public void Claim(IReadOnlyDictionary<string, string> meta)
    {
        Dictionary<string, string> existing = Meta();
        foreach (string key in IdentityKeys)
        {
            if (existing.TryGetValue(key, out string? old) && meta.TryGetValue(key, out string? now) && old != now)
            {
                throw new CimcException(Code, Path, $"holds another study (its {key} differs): use a new --db file");
            }
        }

        lock (gate)
        {
            using SqliteTransaction tx = connection.BeginTransaction();
            foreach ((string key, string value) in meta)
            {
                using SqliteCommand cmd = Command("INSERT INTO meta(key, value) VALUES ($k, $v) ON CONFLICT(key) DO UPDATE SET value = excluded.value", tx);
                cmd.Parameters.AddWithValue("$k", key);
                cmd.Parameters.AddWithValue("$v", value);
                cmd.ExecuteNonQuery();
            }

            tx.Commit();
        }
    }

    /// <summary>Every stored point's key and fidelity (estimate or simulate).</summary>
    public Dictionary<string, string> Fidelities()
    {
        using SqliteCommand cmd = Command("SELECT key, fidelity FROM points");
        using SqliteDataReader r = cmd.ExecuteReader();
        var keys = new Dictionary<string, string>();
        while (r.Read())
        {
            keys[r.GetString(0)] = r.GetString(1);
        }

        return keys;
    }

    public HashSet<string> Keys()
    {
        using SqliteCommand cmd = Command("SELECT key FROM points");
        using SqliteDataReader r = cmd.ExecuteReader();
        var keys = new HashSet<string>();
        while (r.Read())
        {
            keys.Add(r.GetString(0));
        }

        return keys;
    }

    public PointResult? Find(string key)
    {
        using SqliteCommand cmd = Command($"SELECT {Columns} FROM points WHERE key = $k");
        cmd.Parameters.AddWithValue("$k", key);
        using SqliteDataReader r = cmd.ExecuteReader();
        return r.Read() ? Read(r) : null;
    }

    /// <summary>Every row, ordered by key (so two databases with the same rows list them alike).</summary>
    public List<PointResult> All()
    {
        using SqliteCommand cmd = Command($"SELECT {Columns} FROM points ORDER BY key");
        using SqliteDataReader r = cmd.ExecuteReader();
        var rows = new List<PointResult>();
        while (r.Read())
        {
            rows.Add(Read(r));
        }

        return rows;
    }

    /// <summary>Stores a point unless one with its key is there already (a simulation replaces an estimate); true when it was new or upgraded.</summary>
    public bool Insert(PointResult p)
    {
        lock (gate)
        {
            using SqliteCommand cmd = Command($"INSERT INTO points ({Columns}) VALUES ($key, $config, $valid, $reason, $latency, $throughput, $energy, $area, $accuracy, $crossbars, $cores, $lower, $topsw, $topsmm2, $fidelity) {Upsert}");
            SqliteParameterCollection a = cmd.Parameters;
            a.AddWithValue("$key", p.Key);
            a.AddWithValue("$config", p.Config);
            a.AddWithValue("$valid", p.Valid ? 1 : 0);
            a.AddWithValue("$reason", (object?)p.Reason ?? DBNull.Value);
            a.AddWithValue("$latency", Db(p.LatencyNs));
            a.AddWithValue("$throughput", Db(p.ThroughputPerS));
            a.AddWithValue("$energy", Db(p.EnergyNj));
            a.AddWithValue("$area", Db(p.AreaMm2));
            a.AddWithValue("$accuracy", Db(p.Accuracy));
            a.AddWithValue("$crossbars", (object?)p.CrossbarsUsed ?? DBNull.Value);
            a.AddWithValue("$cores", (object?)p.CoresUsed ?? DBNull.Value);
            a.AddWithValue("$lower", Db(p.LowerBoundLatencyNs));
            a.AddWithValue("$topsw", Db(p.TopsPerW));
            a.AddWithValue("$topsmm2", Db(p.TopsPerMm2));
            a.AddWithValue("$fidelity", p.Fidelity);
            return cmd.ExecuteNonQuery() == 1;
        }
    }

    /// <summary>A measured accuracy by its key (PointEvaluator's cache key), if stored.</summary>
    public double? FindAccuracy(string key)
    {
        lock (gate)
        {
            using SqliteCommand cmd = Command("SELECT value FROM accuracy WHERE key = $k");
            cmd.Parameters.AddWithValue("$k", key);
            return cmd.ExecuteScalar() is double v ? v : null;
        }
    }

    public void InsertAccuracy(string key, double value)
    {
        lock (gate)
        {
            using SqliteCommand cmd = Command("INSERT OR IGNORE INTO accuracy (key, value) VALUES ($k, $v)");
            cmd.Parameters.AddWithValue("$k", key);
            cmd.Parameters.AddWithValue("$v", value);
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Adds the rows of another study database (ATTACH, INSERT OR IGNORE with simulations replacing
    /// estimates, DETACH) and its accuracies, after checking that it is the same study; returns how
    /// many rows were new or upgraded. An empty target takes the source's meta.
    /// </summary>
    public int Merge(string sourcePath)
    {
        if (!File.Exists(sourcePath))
        {
            throw new CimcException("file-not-found", sourcePath, "no such database");
        }

        Dictionary<string, string> theirs;
        using (ResultStore source = Open(sourcePath))
        {
            theirs = source.Meta();
        }

        Claim(theirs);
        lock (gate)
        {
            using (SqliteCommand attach = Command("ATTACH DATABASE $path AS src"))
            {
                attach.Parameters.AddWithValue("$path", sourcePath);
                attach.ExecuteNonQuery();
            }

            try
            {
                using SqliteCommand copy = Command($"INSERT INTO points ({Columns}) SELECT {Columns} FROM src.points WHERE true {Upsert}");
                int added = copy.ExecuteNonQuery();
                using SqliteCommand accuracies = Command("INSERT OR IGNORE INTO accuracy (key, value) SELECT key, value FROM src.accuracy");
                accuracies.ExecuteNonQuery();
                return added;
            }
            finally
            {
                Execute("DETACH DATABASE src");
            }
        }
    }

    public void Dispose()
    {
        connection.Dispose();
    }

    private static object Db(double? v) => v is double d && double.IsFinite(d) ? d : DBNull.Value;

    private static PointResult Read(SqliteDataReader r)
    {
        double? D(int i) => r.IsDBNull(i) ? null : r.GetDouble(i);
        int? I(int i) => r.IsDBNull(i) ? null : r.GetInt32(i);
        return new PointResult(r.GetString(0), r.GetString(1), r.GetInt32(2) != 0, r.IsDBNull(3) ? null : r.GetString(3),
            D(4), D(5), D(6), D(7), D(8), I(9), I(10), D(11), D(12), D(13), r.GetString(14));
    }

    private void Execute(string sql)
    {
        using SqliteCommand cmd = Command(sql);
        cmd.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, SqliteTransaction? tx = null)
    {
        SqliteCommand cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        return cmd;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"results database {Path}");
}
