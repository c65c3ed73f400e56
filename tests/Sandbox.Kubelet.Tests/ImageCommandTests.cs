namespace Sandbox.Kubelet.Tests;

public sealed class ImageCommandTests
{
    [Theory]
    [InlineData("ghcr.io/greenhouse-integration/greenhouse-receiver:0.1.0", true)]
    [InlineData("greenhouse-receiver", true)]
    [InlineData("localhost:5000/greenhouse-receiver@sha256:0123abcd", true)]
    [InlineData("localhost:5000/greenhouse-receiver-debug:1", false)]
    [InlineData("ghcr.io/greenhouse-receiver/other:1", false)]
    public void An_image_matches_by_the_end_of_its_repository_whatever_the_registry_tag_or_digest(string image, bool matches)
    {
        var receiver = ImageCommand.Receiver("/repo", "Debug");

        Assert.Equal(matches, receiver.Matches(image));
        Assert.Equal("/repo/operator/Greenhouse.Receiver/bin/Debug/net10.0/Greenhouse.Receiver.dll", Assert.Single(receiver.Arguments));
    }

    [Fact]
    public void The_command_line_form_names_suffix_program_and_arguments()
    {
        Assert.True(ImageCommand.TryParse("my-app=dotnet,/src/App.dll,--verbose", out var command));
        Assert.Equal("my-app", command!.RepositorySuffix);
        Assert.Equal("dotnet", command.FileName);
        Assert.Equal(["/src/App.dll", "--verbose"], command.Arguments);
        Assert.False(ImageCommand.TryParse("no-program=", out _));
        Assert.False(ImageCommand.TryParse("=dotnet", out _));
    }
}
