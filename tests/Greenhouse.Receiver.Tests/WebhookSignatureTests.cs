using System.Text;
using Greenhouse.Receiver.Webhooks;
using Greenhouse.Receiver.Observability;

namespace Greenhouse.Receiver.Tests;

public sealed class WebhookSignatureTests
{
    private static readonly byte[] Current = "current-secret"u8.ToArray();
    private static readonly byte[] Previous = "previous-secret"u8.ToArray();
    private static readonly WebhookSecrets Both = new(Current, Previous, null);
    private static readonly byte[] Body = """{"action":"update_candidate","payload":{"candidate":{"id":1}}}"""u8.ToArray();

    [Fact]
    public void Body_signed_with_the_current_secret_verifies_as_current()
    {
        Assert.Equal(SecretSlotMatch.Current, WebhookSignature.Verify(WebhookSignature.Sign(Body, Current), Body, Both));
    }

    [Fact]
    public void Body_signed_with_the_previous_secret_verifies_as_previous()
    {
        Assert.Equal(SecretSlotMatch.Previous, WebhookSignature.Verify(WebhookSignature.Sign(Body, Previous), Body, Both));
    }

    [Fact]
    public void Previous_secret_is_not_accepted_once_it_is_gone()
    {
        var currentOnly = new WebhookSecrets(Current, null, null);
        Assert.Equal(SecretSlotMatch.None, WebhookSignature.Verify(WebhookSignature.Sign(Body, Previous), Body, currentOnly));
    }

    [Fact]
    public void A_reloaded_secret_is_used_at_once_on_the_same_thread()
    {
        // The keyed HMAC context is kept per thread: a new snapshot (rotation) must never be checked with the old key.
        var first = new WebhookSecrets("first-secret"u8.ToArray(), null, null);
        var second = new WebhookSecrets("second-secret"u8.ToArray(), first.Current, null);
        var third = new WebhookSecrets("third-secret"u8.ToArray(), null, null);
        for (var round = 0; round < 3; round++)
        {
            Assert.Equal(SecretSlotMatch.Current, WebhookSignature.Verify(WebhookSignature.Sign(Body, first.Current), Body, first));
            Assert.Equal(SecretSlotMatch.None, WebhookSignature.Verify(WebhookSignature.Sign(Body, second.Current), Body, first));
            Assert.Equal(SecretSlotMatch.Current, WebhookSignature.Verify(WebhookSignature.Sign(Body, second.Current), Body, second));
            Assert.Equal(SecretSlotMatch.Previous, WebhookSignature.Verify(WebhookSignature.Sign(Body, first.Current), Body, second));
            Assert.Equal(SecretSlotMatch.None, WebhookSignature.Verify(WebhookSignature.Sign(Body, first.Current), Body, third));
            Assert.Equal(SecretSlotMatch.None, WebhookSignature.Verify(WebhookSignature.Sign(Body, second.Current), Body, third));
        }
    }

    [Fact]
    public void One_changed_byte_fails_verification()
    {
        var header = WebhookSignature.Sign(Body, Current);
        var tampered = (byte[])Body.Clone();
        tampered[^3] ^= 0x01;
        Assert.Equal(SecretSlotMatch.None, WebhookSignature.Verify(header, tampered, Both));
    }

    [Fact]
    public void Signature_of_a_different_secret_fails_verification()
    {
        Assert.Equal(SecretSlotMatch.None, WebhookSignature.Verify(WebhookSignature.Sign(Body, "other"u8), Body, Both));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("sha1 0123456789abcdef0123456789abcdef01234567")]
    [InlineData("sha256")]
    [InlineData("sha256 zz3456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("sha256 0123456789abcdef")]
    [InlineData("SHA256 placeholder")]
    public void Missing_unknown_algorithm_non_hex_or_short_signatures_fail(string? header)
    {
        if (header == "SHA256 placeholder")
        {
            // Greenhouse names the algorithm in lower case; anything else is an unknown algorithm.
            header = "SHA256 " + WebhookSignature.Sign(Body, Current)["sha256 ".Length..];
        }
        Assert.Equal(SecretSlotMatch.None, WebhookSignature.Verify(header, Body, Both));
    }

    [Fact]
    public void Unicode_escaped_body_verifies_over_the_raw_bytes_not_a_reserialisation()
    {
        var raw = Encoding.UTF8.GetBytes("{\"action\":\"update_candidate\",\"payload\":{\"note\":\"\\u003cb\\u003eHi\\u003c/b\\u003e caf\\u00e9\"}}");
        var header = WebhookSignature.Sign(raw, Current);
        Assert.Equal(SecretSlotMatch.Current, WebhookSignature.Verify(header, raw, Both));
        // The same JSON value written unescaped is different bytes and must not verify.
        var unescaped = Encoding.UTF8.GetBytes("{\"action\":\"update_candidate\",\"payload\":{\"note\":\"<b>Hi</b> café\"}}");
        Assert.Equal(SecretSlotMatch.None, WebhookSignature.Verify(header, unescaped, Both));
    }

    [Fact]
    public void Sign_produces_greenhouse_header_form_with_lowercase_hex()
    {
        var header = WebhookSignature.Sign("{}"u8, "k"u8);
        Assert.Matches("^sha256 [0-9a-f]{64}$", header);
    }

    [Fact]
    public void A_key_verified_before_a_reload_counts_in_the_slot_it_holds_after_it()
    {
        // Rotation: the old current key becomes the previous one. A delivery Greenhouse signed with the old
        // key, verified against the snapshot taken before the reload, must not count as the new key's.
        var rotated = new WebhookSecrets("rotated-secret"u8.ToArray(), Current, null);
        var signedWithOld = WebhookSignature.Verify(WebhookSignature.Sign(Body, Current), Body, Both);
        Assert.Equal(SecretSlotMatch.Current, signedWithOld);
        Assert.Equal(SecretSlotMatch.Previous, rotated.SlotOf(signedWithOld, Both));
        // The old previous key is no longer loaded at all.
        Assert.Equal(SecretSlotMatch.None, rotated.SlotOf(SecretSlotMatch.Previous, Both));
        // Nothing changed: the slot stands, and None stays None.
        Assert.Equal(SecretSlotMatch.Current, Both.SlotOf(SecretSlotMatch.Current, Both));
        Assert.Equal(SecretSlotMatch.Previous, Both.SlotOf(SecretSlotMatch.Previous, new WebhookSecrets(Current, Previous, null)));
        Assert.Equal(SecretSlotMatch.None, rotated.SlotOf(SecretSlotMatch.None, Both));
        // A rollback to the old key: it is current again.
        Assert.Equal(SecretSlotMatch.Current, Both.SlotOf(SecretSlotMatch.Previous, rotated));
    }
}
