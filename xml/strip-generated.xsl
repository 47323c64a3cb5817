<?xml version="1.0"?>
<!-- The bench baseline (tests/bench/xml.sh): libvirt's generated-name rule as XSLT 1.0.
     Identity copy that drops each <target> of a /domain/devices/interface (also inside a
     <domstatus>) whose dev starts with vnet, macvtap or macvlan and that is not
     managed='no', together with the whitespace-only text in front of it. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="xml" omit-xml-declaration="no" encoding="UTF-8"/>
  <xsl:template match="@*|node()">
    <xsl:copy><xsl:apply-templates select="@*|node()"/></xsl:copy>
  </xsl:template>
  <xsl:template match="/domain/devices/interface/target[@dev and not(@managed='no')
                         and (starts-with(@dev,'vnet') or starts-with(@dev,'macvtap')
                              or starts-with(@dev,'macvlan'))]
                       | /domstatus/domain/devices/interface/target[@dev and not(@managed='no')
                         and (starts-with(@dev,'vnet') or starts-with(@dev,'macvtap')
                              or starts-with(@dev,'macvlan'))]"/>
  <xsl:template match="text()[normalize-space()='' and following-sibling::node()[1]
                         [self::target and parent::interface/parent::devices
                          and @dev and not(@managed='no')
                          and (starts-with(@dev,'vnet') or starts-with(@dev,'macvtap')
                               or starts-with(@dev,'macvlan'))]]"/>
</xsl:stylesheet>
