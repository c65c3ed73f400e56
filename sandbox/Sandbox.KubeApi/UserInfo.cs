using System.Text.Json.Nodes;

namespace Sandbox.KubeApi;

/// <summary>An authenticated identity, as the API server's user.Info: name, uid, groups and extra.</summary>
internal sealed record UserInfo(string Name, string Uid, IReadOnlyList<string> Groups, IReadOnlyDictionary<string, IReadOnlyList<string>> Extra)
{
    public const string AllAuthenticated = "system:authenticated";
    public const string AllUnauthenticated = "system:unauthenticated";
    public const string AnonymousName = "system:anonymous";
    public const string Masters = "system:masters";
    public const string ServiceAccountPrefix = "system:serviceaccount:";
    public const string AllServiceAccounts = "system:serviceaccounts";

    private static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> NoExtra = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>The sandbox's cluster administrator: member of system:masters, which no authorizer can refuse.</summary>
    public static UserInfo Admin { get; } = new("sandbox-admin", "", [Masters, AllAuthenticated], NoExtra);

    public static UserInfo Anonymous { get; } = new(AnonymousName, "", [AllUnauthenticated], NoExtra);

    public bool IsPrivileged => Groups.Contains(Masters);

    public static UserInfo ServiceAccount(string ns, string name, string uid, IReadOnlyDictionary<string, IReadOnlyList<string>>? extra = null) =>
        new(ServiceAccountPrefix + ns + ":" + name, uid, [AllServiceAccounts, AllServiceAccounts + ":" + ns, AllAuthenticated], extra ?? NoExtra);

    /// <summary>Splits system:serviceaccount:NS:NAME into its namespace and name.</summary>
    public static bool TryParseServiceAccount(string userName, out string ns, out string name)
    {
        ns = name = "";
        if (!userName.StartsWith(ServiceAccountPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = userName[ServiceAccountPrefix.Length..].Split(':');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
        {
            return false;
        }

        (ns, name) = (parts[0], parts[1]);
        return true;
    }

    public static UserInfo Create(string name, string uid, IEnumerable<string> groups, IReadOnlyDictionary<string, IReadOnlyList<string>>? extra = null) =>
        new(name, uid, [.. groups], extra ?? NoExtra);

    /// <summary>The authentication.k8s.io/v1 UserInfo JSON form.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject { ["username"] = Name };
        if (Uid.Length > 0)
        {
            json["uid"] = Uid;
        }

        json["groups"] = new JsonArray([.. Groups.Select(g => (JsonNode)JsonValue.Create(g))]);
        if (Extra.Count > 0)
        {
            var extra = new JsonObject();
            foreach (var (key, values) in Extra)
            {
                extra[key] = new JsonArray([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);
            }

            json["extra"] = extra;
        }

        return json;
    }
}
