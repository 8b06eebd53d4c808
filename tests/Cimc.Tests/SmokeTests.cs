namespace Cimc.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void The_test_project_builds() => Assert.True(true);
}
