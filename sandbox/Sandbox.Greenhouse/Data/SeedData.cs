using System.Text.Json.Nodes;
using Bogus;

namespace Sandbox.Greenhouse;

/// <summary>Deterministic people for the simulator: names, e-mails, phones and LinkedIn / GitHub / personal-site URLs from Bogus with a fixed seed.</summary>
internal static class SeedData
{
    public const long FirstCandidateId = 4_900_000_000;

    public static readonly string[] TagNames = ["Python", "Java", "C#", "Go", "Rust", "Senior", "Referral", "Do not contact", "Boomerang", "Hackathon"];

    private static readonly string[] PhoneTypes = ["mobile", "home", "work"];

    public static IEnumerable<JsonObject> Candidates(int count, int seed, DateTimeOffset now)
    {
        var faker = new Faker("en") { Random = new Randomizer(seed) };
        // Every tenth person gets a French name so accents travel through JSON escaping and lookups.
        var accented = new Faker("fr") { Random = new Randomizer(seed + 1) };
        for (var i = 0; i < count; i++)
        {
            var names = i % 10 == 9 ? accented : faker;
            var first = names.Name.FirstName();
            var last = names.Name.LastName();
            var company = faker.Company.CompanyName();
            var created = now - TimeSpan.FromMinutes(faker.Random.Int(60 * 24 * 30, 60 * 24 * 730));
            var updated = created + TimeSpan.FromMinutes(faker.Random.Int(0, (int)(now - created).TotalMinutes - 5));
            var handle = faker.Internet.UserName(Ascii(first), Ascii(last)).ToLowerInvariant();
            var id = FirstCandidateId + (i * 7L);
            var socials = new JsonArray { new JsonObject { ["value"] = $"https://www.linkedin.com/in/{Slug(first)}-{Slug(last)}-{faker.Random.Hexadecimal(6, string.Empty)}" } };
            if (faker.Random.Bool(0.6f))
            {
                socials.Add(new JsonObject { ["value"] = $"https://github.com/{handle}" });
            }

            var websites = new JsonArray();
            if (faker.Random.Bool(0.3f))
            {
                websites.Add(new JsonObject { ["value"] = $"https://{Slug(first)}{Slug(last)}.dev", ["type"] = "personal" });
            }

            var tags = new JsonArray();
            foreach (var tag in faker.Random.ListItems(TagNames, faker.Random.Int(0, 2)))
            {
                tags.Add(JsonValue.Create(tag));
            }

            yield return new JsonObject
            {
                ["id"] = id,
                ["created_at"] = GreenhouseJson.Timestamp(created),
                ["updated_at"] = GreenhouseJson.Timestamp(updated),
                ["first_name"] = first,
                ["last_name"] = last,
                ["preferred_name"] = null,
                ["company"] = company,
                ["title"] = faker.Name.JobTitle(),
                ["last_activity_at"] = GreenhouseJson.Timestamp(updated),
                ["private"] = faker.Random.Bool(0.05f),
                ["can_email"] = true,
                ["time_zone"] = faker.PickRandom("Europe/Paris", "America/New_York", "America/Los_Angeles", "Asia/Tokyo", null),
                ["tags"] = tags,
                ["linked_user_ids"] = new JsonArray(),
                ["phone_numbers"] = new JsonArray { new JsonObject { ["value"] = faker.Phone.PhoneNumber(), ["type"] = faker.PickRandom(PhoneTypes) } },
                ["addresses"] = new JsonArray { new JsonObject { ["value"] = faker.Address.FullAddress(), ["type"] = "home" } },
                ["email_addresses"] = new JsonArray
                {
                    new JsonObject { ["value"] = $"{handle}@{faker.PickRandom("gmail.com", "outlook.com", "proton.me", "yahoo.com")}", ["type"] = "personal" },
                    new JsonObject { ["value"] = $"{Slug(first)}.{Slug(last)}@{Slug(company)}.com", ["type"] = "work" },
                },
                ["website_addresses"] = websites,
                ["social_media_addresses"] = socials,
                ["custom_fields"] = new JsonObject
                {
                    ["desired_salary"] = new JsonObject { ["name"] = "Desired Salary", ["type"] = "short_text", ["value"] = null },
                    ["notice_period"] = new JsonObject { ["name"] = "Notice period (weeks)", ["type"] = "number", ["value"] = faker.Random.Int(0, 12) },
                },
            };
        }
    }

    public static IEnumerable<JsonObject> Users(long syncUserId, DateTimeOffset now)
    {
        yield return User(syncUserId, "Default", "Sync User", "sync-user@sandbox.example", siteAdmin: true, now);
        yield return User(4081, "Hank", "Hollandaise", "hank.hollandaise@sandbox.example", siteAdmin: false, now);
        yield return User(4082, "Sterling", "Kang", "sterling.kang@sandbox.example", siteAdmin: false, now);
        yield return User(4083, "Ana", "Müller", "ana.mueller@sandbox.example", siteAdmin: true, now);
    }

    public static IEnumerable<JsonObject> Sources(DateTimeOffset now)
    {
        (long Id, string Name, long TypeId, string Type)[] sources =
        [
            (1001, "LinkedIn (Prospecting)", 3, "Prospecting"), (1002, "GitHub (Prospecting)", 3, "Prospecting"),
            (1003, "Referral", 2, "Referral"), (1004, "Jobs page on your website", 1, "Company marketing"), (1005, "Agency", 4, "Agencies"),
        ];
        foreach (var source in sources)
        {
            yield return new JsonObject
            {
                ["id"] = source.Id,
                ["created_at"] = GreenhouseJson.Timestamp(now - TimeSpan.FromDays(900)),
                ["updated_at"] = GreenhouseJson.Timestamp(now - TimeSpan.FromDays(900)),
                ["name"] = source.Name,
                ["type"] = new JsonObject { ["id"] = source.TypeId, ["name"] = source.Type },
            };
        }
    }

    private static JsonObject User(long id, string first, string last, string email, bool siteAdmin, DateTimeOffset now) => new()
    {
        ["id"] = id,
        ["created_at"] = GreenhouseJson.Timestamp(now - TimeSpan.FromDays(1000)),
        ["updated_at"] = GreenhouseJson.Timestamp(now - TimeSpan.FromDays(10)),
        ["first_name"] = first,
        ["last_name"] = last,
        ["name"] = $"{first} {last}",
        ["primary_email"] = email,
        ["emails"] = new JsonArray { JsonValue.Create(email) },
        ["job_title"] = siteAdmin ? "Administrator" : "Recruiter",
        ["deactivated"] = false,
        ["site_admin"] = siteAdmin,
        ["employee_id"] = null,
        ["linked_candidate_ids"] = new JsonArray(),
        ["office_ids"] = new JsonArray(),
        ["department_ids"] = new JsonArray(),
    };

    private static string Slug(string text) => new([.. Ascii(text).ToLowerInvariant().Where(char.IsAsciiLetterOrDigit)]);

    // Invariant globalization has no Unicode decomposition tables; the names Bogus produces need only these.
    private const string Accented = "àâäáãåçéèêëíìîïñóòôöõúùûüýÿœæÀÂÄÁÇÉÈÊËÎÏÔÖÛÜŸ";
    private const string Plain = "aaaaaaceeeeiiiinooooouuuuyyoaAAAACEEEEIIOOUUY";

    private static string Ascii(string text) =>
        new([.. text.Select(c => Accented.IndexOf(c, StringComparison.Ordinal) is var i and >= 0 ? Plain[i] : c).Where(c => c < 0x80)]);
}
